//! The sandbox's state in SQLite: stocks, coupons, orders, refunds, the
//! coupon callback URLs, bill download tokens and the id counters.
//!
//! One code path for both lives: with [`crate::SandboxConfig::state_dir`]
//! the database is `DIR/sandbox.sqlite3` (WAL journal, `synchronous=FULL`),
//! so a restart on the same folder finds everything the sandbox
//! acknowledged; without it the database is in memory and dies with the
//! sandbox.
//!
//! [`Store::transaction`] runs each change in an immediate transaction
//! that is committed before the handler answers. A database failure is a
//! 500 `SYSTEM_ERROR` for the request that met it.
//!
//! # The database thread
//!
//! The one connection lives on a thread of its own, which runs the
//! changes one after the other as they arrive on a channel; a handler
//! sends its change (a `Send + 'static` closure, so it owns what it
//! reads) and awaits the answer. The SQLite work, including the `fsync`
//! of every commit on disk, therefore never runs on a tokio worker, and a
//! slow commit (or a lock held by another process, waited for up to
//! `BUSY_TIMEOUT`) delays the requests that use the database only, never
//! one that does not (an answer from the spec, a certificate download,
//! the scripts and most `/_sandbox/…` routes). Chosen over:
//!
//! * `tokio::task::spawn_blocking` around the former mutex: the same
//!   `'static` closures, but each call may wake or start a pool thread,
//!   and under load up to 512 of them queue on the mutex, while only one
//!   can use the connection at a time anyway;
//! * `tokio::task::block_in_place`: keeps borrowing closures, but it hands
//!   the worker's other tasks to another thread on every call, and it
//!   panics on the current-thread runtime (`#[tokio::test]`, where
//!   embedders often start the sandbox), where the work would have to run
//!   inline on the only worker again.
//!
//! A queue in front of one thread costs one hand-off each way per
//! request, serves requests in arrival order, and bounds the sandbox's
//! threads. A change whose handler is cancelled (the client went away)
//! after sending it still runs, whole, in its own transaction.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension as _, Transaction, TransactionBehavior, params};

use crate::config::SandboxError;
use crate::errors::ApiError;

/// The file name inside the state folder.
pub(crate) const FILE_NAME: &str = "sandbox.sqlite3";

/// The layout [`SCHEMA`] creates, kept in `PRAGMA user_version`; a file
/// with a higher one was written by a newer sandbox and is refused, a
/// file with a lower one is brought up to date by [`migrate`].
///
/// * 1: the first layout.
/// * 2: `orders.prepay_id` (indexed), so that the payer's side finds an
///   order by the `prepay_id` in its invocation parameters.
/// * 3: merchant transfer bills and profit sharing (receivers, orders,
///   returns): new tables only, which [`SCHEMA`] creates in an older file.
const SCHEMA_VERSION: i64 = 3;

/// How long a statement waits for another process holding the file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema, created when missing. Ids and times are kept as the API
/// shows them (ids as text, times as Unix seconds); request bodies as the
/// validated JSON.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    next INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS stocks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    stock_id TEXT NOT NULL UNIQUE,
    creator_mchid TEXT NOT NULL,
    out_request_no TEXT NOT NULL,
    status TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    start_time INTEGER,
    pause_time INTEGER,
    restart_time INTEGER,
    distributed_coupons INTEGER NOT NULL DEFAULT 0,
    request TEXT NOT NULL,
    UNIQUE (creator_mchid, out_request_no)
);
CREATE TABLE IF NOT EXISTS coupons (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    coupon_id TEXT NOT NULL UNIQUE,
    stock_id TEXT NOT NULL,
    creator_mchid TEXT NOT NULL,
    out_request_no TEXT NOT NULL,
    openid TEXT NOT NULL,
    appid TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    request TEXT NOT NULL,
    UNIQUE (creator_mchid, out_request_no)
);
CREATE TABLE IF NOT EXISTS coupon_callbacks (
    mchid TEXT PRIMARY KEY,
    notify_url TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    update_time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    mchid TEXT NOT NULL,
    out_trade_no TEXT NOT NULL,
    trade_type TEXT NOT NULL,
    request TEXT NOT NULL,
    answer TEXT NOT NULL,
    trade_state TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    transaction_id TEXT UNIQUE,
    success_time INTEGER,
    payer_total INTEGER,
    bank_type TEXT,
    payer_openid TEXT,
    refunded INTEGER NOT NULL DEFAULT 0,
    prepay_id TEXT,
    UNIQUE (mchid, out_trade_no)
);
CREATE TABLE IF NOT EXISTS refunds (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    mchid TEXT NOT NULL,
    out_refund_no TEXT NOT NULL,
    refund_id TEXT NOT NULL UNIQUE,
    out_trade_no TEXT NOT NULL,
    request TEXT NOT NULL,
    refund INTEGER NOT NULL,
    status TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    success_time INTEGER,
    UNIQUE (mchid, out_refund_no)
);
CREATE TABLE IF NOT EXISTS bills (
    token TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    gzip INTEGER NOT NULL,
    mchid TEXT NOT NULL,
    issued_at INTEGER NOT NULL
);
-- merchant transfers (商家转账): one row per bill; `request` is the
-- validated create body without `user_name`, which is kept decrypted.
CREATE TABLE IF NOT EXISTS transfer_bills (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    mchid TEXT NOT NULL,
    out_bill_no TEXT NOT NULL,
    transfer_bill_no TEXT NOT NULL UNIQUE,
    appid TEXT NOT NULL,
    openid TEXT NOT NULL,
    user_name TEXT,
    transfer_amount INTEGER NOT NULL,
    transfer_remark TEXT NOT NULL,
    notify_url TEXT,
    request TEXT NOT NULL,
    package_info TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    fail_reason TEXT,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL,
    UNIQUE (mchid, out_bill_no)
);
-- profit sharing (分账): receivers per merchant, sub_mchid ('' for a
-- direct merchant) and appid; sharing and unfreeze orders (`request`
-- without encrypted names, `receivers` as JSON); returns.
CREATE TABLE IF NOT EXISTS profitsharing_receivers (
    mchid TEXT NOT NULL,
    sub_mchid TEXT NOT NULL,
    appid TEXT NOT NULL,
    type TEXT NOT NULL,
    account TEXT NOT NULL,
    name TEXT,
    relation_type TEXT NOT NULL,
    custom_relation TEXT,
    create_time INTEGER NOT NULL,
    PRIMARY KEY (mchid, sub_mchid, appid, type, account)
);
CREATE TABLE IF NOT EXISTS profitsharing_orders (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    mchid TEXT NOT NULL,
    out_order_no TEXT NOT NULL,
    order_id TEXT NOT NULL UNIQUE,
    transaction_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    request TEXT NOT NULL,
    receivers TEXT NOT NULL,
    state TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    finish_time INTEGER NOT NULL,
    UNIQUE (mchid, out_order_no)
);
CREATE TABLE IF NOT EXISTS profitsharing_returns (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    mchid TEXT NOT NULL,
    out_return_no TEXT NOT NULL,
    return_id TEXT NOT NULL UNIQUE,
    out_order_no TEXT NOT NULL,
    order_id TEXT NOT NULL,
    request TEXT NOT NULL,
    return_mchid TEXT NOT NULL,
    amount INTEGER NOT NULL,
    result TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    finish_time INTEGER NOT NULL,
    UNIQUE (mchid, out_return_no)
);
";

/// One unit of work for the database thread: a change wrapped with the
/// way its outcome goes back to the caller.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// What a change ends with: its result, or the payload of its panic.
type Outcome<T> = Result<Result<T, ApiError>, Box<dyn Any + Send>>;

/// The database, shared by every handler: the sending side of the
/// database thread's queue (see the [module docs](self)).
pub(crate) struct Store {
    /// Where changes go; `None` only while [`Store`] is dropped.
    jobs: Option<mpsc::Sender<Job>>,
    /// The database thread, joined on drop so that the file is closed
    /// when the store is gone.
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

/// Refuses a state database whose journal is not WAL: SQLite answers
/// `PRAGMA journal_mode=WAL` with the mode it actually uses, and keeps the
/// old one when it cannot switch (a file system without shared memory or
/// locking, such as some network or FUSE mounts), where the sandbox's
/// promise (what it acknowledged survives a kill) does not hold.
fn check_journal_mode(answer: &str, path: &Path) -> Result<(), SandboxError> {
    if answer.eq_ignore_ascii_case("wal") {
        return Ok(());
    }
    Err(SandboxError::State {
        reason: format!(
            "{} uses the `{answer}` journal, not WAL: SQLite could not switch it to WAL \
             (a file system without shared memory or file locks, such as a network or FUSE \
             mount?); put --state on a local disk",
            path.display()
        ),
    })
}

impl Store {
    /// Opens (creating when needed) `dir/sandbox.sqlite3`, or an in-memory
    /// database when `dir` is `None`.
    pub(crate) fn open(dir: Option<&Path>) -> Result<Store, SandboxError> {
        let failed = |reason: String| SandboxError::State { reason };
        let connection = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
                let path = dir.join(FILE_NAME);
                let connection = Connection::open(&path)
                    .map_err(|e| failed(format!("cannot open {}: {e}", path.display())))?;
                let mode = connection
                    .busy_timeout(BUSY_TIMEOUT)
                    .and_then(|()| {
                        connection
                            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get::<_, String>(0))
                    })
                    .and_then(|mode| {
                        connection
                            .execute_batch("PRAGMA synchronous=FULL;")
                            .map(|()| mode)
                    })
                    .map_err(|e| failed(format!("cannot set up {}: {e}", path.display())))?;
                check_journal_mode(&mode, &path)?;
                connection
            }
            None => Connection::open_in_memory()
                .map_err(|e| failed(format!("cannot open an in-memory database: {e}")))?,
        };
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|e| failed(format!("cannot read the schema version: {e}")))?;
        if version > SCHEMA_VERSION {
            return Err(failed(format!(
                "the state database has schema version {version}, newer than this sandbox's \
                 {SCHEMA_VERSION}"
            )));
        }
        connection
            .execute_batch(SCHEMA)
            .map_err(|e| failed(format!("cannot create the tables: {e}")))?;
        migrate(&connection).map_err(|e| failed(format!("cannot update the tables: {e}")))?;
        connection
            .execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};"))
            .map_err(|e| failed(format!("cannot set the schema version: {e}")))?;
        Store::serve(connection)
    }

    /// Moves `connection` to a new database thread, which runs the jobs
    /// sent to it until the store is dropped.
    fn serve(mut connection: Connection) -> Result<Store, SandboxError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let worker = thread::Builder::new()
            .name("wxpay-sandbox-db".to_owned())
            .spawn(move || {
                while let Ok(job) = queue.recv() {
                    job(&mut connection);
                }
            })
            .map_err(|e| SandboxError::State {
                reason: format!("cannot start the database thread: {e}"),
            })?;
        Ok(Store {
            jobs: Some(jobs),
            worker: Some(worker),
        })
    }

    /// Runs `change` on the database thread in one immediate transaction,
    /// committed when it returns `Ok` and rolled back when it returns
    /// `Err`, and answers its result. The calling task waits without
    /// holding its worker thread.
    ///
    /// A panic inside `change` rolls its transaction back, leaves the
    /// database thread serving, and is resumed here, in the caller.
    pub(crate) async fn transaction<T, F>(&self, change: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, ApiError> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.submit(Box::new(move |connection| {
            // The caller may have gone away meanwhile; its change is done.
            let _ = reply.send(run(connection, change));
        }))?;
        match answer.await {
            Ok(outcome) => unwrap_outcome(outcome),
            Err(_) => Err(thread_stopped()),
        }
    }

    /// [`Store::transaction`] for code outside any runtime (the unit
    /// tests): blocks the calling thread until the change is done.
    #[cfg(test)]
    pub(crate) fn transaction_blocking<T, F>(&self, change: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, ApiError> + Send + 'static,
    {
        let (reply, answer) = mpsc::sync_channel(1);
        self.submit(Box::new(move |connection| {
            let _ = reply.send(run(connection, change));
        }))?;
        match answer.recv() {
            Ok(outcome) => unwrap_outcome(outcome),
            Err(_) => Err(thread_stopped()),
        }
    }

    /// Queues `job` for the database thread.
    fn submit(&self, job: Job) -> Result<(), ApiError> {
        self.jobs
            .as_ref()
            .ok_or_else(thread_stopped)?
            .send(job)
            .map_err(|_| thread_stopped())
    }
}

impl Drop for Store {
    /// Closes the queue and waits for the database thread to finish the
    /// changes already sent and close the connection. A store dropped on
    /// the database thread itself (by the last owner captured in a
    /// change) lets the thread end on its own.
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(worker) = self.worker.take()
            && worker.thread().id() != thread::current().id()
        {
            let _ = worker.join();
        }
    }
}

/// Runs `change` in one immediate transaction on `connection`, catching
/// a panic: the transaction, dropped uncommitted while unwinding, rolls
/// back, so the connection is consistent for the next change.
fn run<T>(
    connection: &mut Connection,
    change: impl FnOnce(&Transaction<'_>) -> Result<T, ApiError>,
) -> Outcome<T> {
    panic::catch_unwind(AssertUnwindSafe(|| {
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = change(&transaction)?;
        transaction.commit()?;
        Ok(value)
    }))
}

/// The result of a change, or its panic resumed in the caller.
fn unwrap_outcome<T>(outcome: Outcome<T>) -> Result<T, ApiError> {
    match outcome {
        Ok(result) => result,
        Err(panic) => panic::resume_unwind(panic),
    }
}

/// The error when the database thread is gone (it only ends when the
/// store is dropped, so this is not expected while handlers run).
fn thread_stopped() -> ApiError {
    ApiError::system_error("the sandbox's state database thread has stopped")
}

impl From<rusqlite::Error> for ApiError {
    fn from(error: rusqlite::Error) -> Self {
        tracing::error!(%error, "state database failure");
        ApiError::system_error(format!("the sandbox's state database failed: {error}"))
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(error: serde_json::Error) -> Self {
        ApiError::system_error(format!("the sandbox's stored JSON is unreadable: {error}"))
    }
}

/// Brings tables made by an older sandbox (schema version 1) up to
/// [`SCHEMA_VERSION`], in one transaction; idempotent, so it runs on every
/// open: adds `orders.prepay_id` when missing and fills it from each
/// order's stored answer (a JSAPI or APP order's `prepay_id`, an H5
/// order's `h5_url` query; a Native order's answer names none, so it stays
/// `NULL`), then indexes it.
fn migrate(connection: &Connection) -> rusqlite::Result<()> {
    let has_prepay_id = connection
        .prepare("SELECT 1 FROM pragma_table_info('orders') WHERE name = 'prepay_id'")?
        .exists([])?;
    connection.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        if !has_prepay_id {
            connection.execute_batch("ALTER TABLE orders ADD COLUMN prepay_id TEXT")?;
        }
        let missing: Vec<(i64, String)> = connection
            .prepare("SELECT seq, answer FROM orders WHERE prepay_id IS NULL")?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (seq, answer) in missing {
            if let Some(prepay_id) = prepay_id_of_answer(&answer) {
                connection.execute(
                    "UPDATE orders SET prepay_id = ?1 WHERE seq = ?2",
                    params![prepay_id, seq],
                )?;
            }
        }
        connection
            .execute_batch("CREATE INDEX IF NOT EXISTS orders_prepay_id ON orders (prepay_id)")
    })();
    match result {
        Ok(()) => connection.execute_batch("COMMIT"),
        Err(error) => {
            let _ = connection.execute_batch("ROLLBACK");
            Err(error)
        }
    }
}

/// The `prepay_id` a stored create answer names: its `prepay_id` field, or
/// the `prepay_id` parameter of its `h5_url`.
fn prepay_id_of_answer(answer: &str) -> Option<String> {
    let answer: serde_json::Value = serde_json::from_str(answer).ok()?;
    if let Some(id) = answer.get("prepay_id").and_then(serde_json::Value::as_str) {
        return Some(id.to_owned());
    }
    let url = answer.get("h5_url")?.as_str()?;
    let (_, query) = url.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("prepay_id="))
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}

/// The next value of the counter `name` (starting at `first`), never
/// handed out before, even across restarts on the same state folder.
pub(crate) fn next_id(db: &Connection, name: &str, first: u64) -> Result<u64, ApiError> {
    let current: Option<i64> = db
        .query_row(
            "SELECT next FROM counters WHERE name = ?1",
            params![name],
            |row| row.get(0),
        )
        .optional()?;
    let value = match current {
        Some(next) => u64::try_from(next).unwrap_or(first),
        None => first,
    };
    let following = i64::try_from(value.saturating_add(1)).unwrap_or(i64::MAX);
    db.execute(
        "INSERT INTO counters (name, next) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET next = excluded.next",
        params![name, following],
    )?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_continue_after_reopening() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(Some(dir.path())).expect("open");
        let first = store
            .transaction_blocking(|db| next_id(db, "stock", 10))
            .expect("id");
        let second = store
            .transaction_blocking(|db| next_id(db, "stock", 10))
            .expect("id");
        assert_eq!((first, second), (10, 11));
        drop(store);
        let store = Store::open(Some(dir.path())).expect("reopen");
        assert_eq!(
            store
                .transaction_blocking(|db| next_id(db, "stock", 10))
                .expect("id"),
            12
        );
    }

    #[test]
    fn the_state_database_is_in_wal_mode_or_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        drop(Store::open(Some(dir.path())).expect("open"));
        let connection = Connection::open(dir.path().join(FILE_NAME)).expect("open");
        let mode: String = connection
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .expect("journal mode");
        assert_eq!(mode, "wal");

        let path = dir.path().join(FILE_NAME);
        assert!(check_journal_mode("wal", &path).is_ok());
        assert!(check_journal_mode("WAL", &path).is_ok());
        for answer in ["delete", "memory", "truncate", "persist", "off", ""] {
            let error = check_journal_mode(answer, &path).expect_err(answer);
            let message = error.to_string();
            assert!(
                message.contains(&format!("`{answer}` journal, not WAL"))
                    && message.contains("local disk"),
                "{message}"
            );
        }
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        drop(Store::open(Some(dir.path())).expect("open"));
        let connection = Connection::open(dir.path().join(FILE_NAME)).expect("open");
        connection
            .execute_batch("PRAGMA user_version = 99;")
            .expect("set version");
        drop(connection);
        let error = Store::open(Some(dir.path())).expect_err("newer");
        assert!(error.to_string().contains("schema version 99"), "{error}");
    }

    #[test]
    fn a_version_1_file_gets_prepay_ids() {
        let dir = tempfile::tempdir().expect("temp dir");
        let connection = Connection::open(dir.path().join(FILE_NAME)).expect("open");
        // The version 1 layout of `orders`.
        connection
            .execute_batch(
                "CREATE TABLE orders (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    mchid TEXT NOT NULL, out_trade_no TEXT NOT NULL,
                    trade_type TEXT NOT NULL, request TEXT NOT NULL, answer TEXT NOT NULL,
                    trade_state TEXT NOT NULL, create_time INTEGER NOT NULL,
                    transaction_id TEXT UNIQUE, success_time INTEGER, payer_total INTEGER,
                    bank_type TEXT, payer_openid TEXT, refunded INTEGER NOT NULL DEFAULT 0,
                    UNIQUE (mchid, out_trade_no));
                 INSERT INTO orders (mchid, out_trade_no, trade_type, request, answer,
                    trade_state, create_time) VALUES
                    ('1900', 'a', 'JSAPI', '{}', '{\"prepay_id\":\"wx1\"}', 'NOTPAY', 1),
                    ('1900', 'b', 'MWEB', '{}',
                     '{\"h5_url\":\"https://x.invalid/c?prepay_id=wx2&package=3\"}', 'NOTPAY', 1),
                    ('1900', 'c', 'NATIVE', '{}', '{\"code_url\":\"weixin://x\"}', 'NOTPAY', 1);
                 PRAGMA user_version = 1;",
            )
            .expect("version 1 file");
        drop(connection);
        for _ in 0..2 {
            let store = Store::open(Some(dir.path())).expect("migrated");
            let ids: Vec<(String, Option<String>)> = store
                .transaction_blocking(|db| {
                    let mut statement =
                        db.prepare("SELECT out_trade_no, prepay_id FROM orders ORDER BY seq")?;
                    let rows = statement
                        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                        .collect::<rusqlite::Result<_>>()?;
                    Ok(rows)
                })
                .expect("read");
            assert_eq!(
                ids,
                [
                    ("a".to_owned(), Some("wx1".to_owned())),
                    ("b".to_owned(), Some("wx2".to_owned())),
                    ("c".to_owned(), None),
                ]
            );
        }
        let connection = Connection::open(dir.path().join(FILE_NAME)).expect("open");
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .expect("version");
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn a_failed_change_is_rolled_back() {
        let store = Store::open(None).expect("open");
        let result: Result<(), ApiError> = store.transaction_blocking(|db| {
            next_id(db, "x", 1)?;
            Err(ApiError::invalid_request("no"))
        });
        assert!(result.is_err());
        assert_eq!(
            store.transaction_blocking(|db| next_id(db, "x", 1)).ok(),
            Some(1)
        );
    }

    #[test]
    fn a_panicking_change_is_rolled_back_and_the_thread_goes_on() {
        let store = Store::open(None).expect("open");
        let panicked = std::panic::catch_unwind(AssertUnwindSafe(|| {
            store.transaction_blocking(|db| -> Result<(), ApiError> {
                next_id(db, "x", 1)?;
                panic!("a change that panics");
            })
        }));
        let payload = panicked.expect_err("the panic reaches the caller");
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"a change that panics")
        );
        assert_eq!(
            store.transaction_blocking(|db| next_id(db, "x", 1)).ok(),
            Some(1)
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn changes_run_on_the_database_thread() {
        let store = Store::open(None).expect("open");
        let caller = thread::current().id();
        let (id, name) = store
            .transaction(|_| {
                let current = thread::current();
                Ok((current.id(), current.name().map(str::to_owned)))
            })
            .await
            .expect("change");
        assert_ne!(id, caller);
        assert_eq!(name.as_deref(), Some("wxpay-sandbox-db"));
    }

    #[test]
    fn dropping_the_store_ends_the_thread_after_the_queued_changes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(Some(dir.path())).expect("open");
        let (started, wait) = mpsc::channel();
        // Queued, never awaited: still committed before the drop returns.
        store
            .submit(Box::new(move |connection| {
                let _ = started.send(());
                let _ = run(connection, |db| next_id(db, "queued", 7));
            }))
            .expect("queued");
        drop(store);
        assert!(wait.try_recv().is_ok());
        let store = Store::open(Some(dir.path())).expect("reopen");
        assert_eq!(
            store
                .transaction_blocking(|db| next_id(db, "queued", 7))
                .ok(),
            Some(8)
        );
    }
}

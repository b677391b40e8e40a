//! Decoding a bill download as it arrives: sniff the gzip magic bytes,
//! decompress chunk by chunk, and hash the decompressed bytes (with the
//! hash the bill was announced with: SHA-1, SHA-256 or SM3) on their way
//! to the output, so the bill is held once. Every byte on its way out is
//! checked against the download's [`BillLimits`] first: a decompression
//! bomb stops at the limit, with nothing beyond it written.

use std::io::{self, Write};

use flate2::write::MultiGzDecoder;

use super::digest::RunningHash;
use super::{BillDigest, BillHashType, BillLimit, BillLimits, DownloadError};

/// The first two bytes of every gzip member (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Compressed input is fed to the gzip decoder in pieces of at most this
/// size, so that the count of compressed bytes the ratio is checked
/// against is never far ahead of what produced the output.
const GZIP_FEED: usize = 8 * 1024;

/// Everything written passes through the limits, then the hash, on its
/// way to `out`.
struct Hashing<W> {
    hasher: RunningHash,
    out: W,
    /// Bytes of bill written so far.
    written: u64,
    /// Bytes of body fed in so far (compressed for gzip).
    received: u64,
    limits: BillLimits,
    /// The limit a refused write went past.
    exceeded: Option<(BillLimit, u64)>,
}

impl<W> Hashing<W> {
    /// Counts `len` more bytes of body, refusing them past the limit.
    fn receive(&mut self, len: usize) -> io::Result<()> {
        self.received = self
            .received
            .saturating_add(u64::try_from(len).unwrap_or(u64::MAX));
        match self.limits.check(self.received, self.written) {
            Some(limit) => Err(self.refuse(limit, self.written)),
            None => Ok(()),
        }
    }

    fn refuse(&mut self, limit: BillLimit, decompressed: u64) -> io::Error {
        self.exceeded = Some((limit, decompressed));
        io::Error::other("the bill download went past its limit")
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let after = self
            .written
            .saturating_add(u64::try_from(buf.len()).unwrap_or(u64::MAX));
        if let Some(limit) = self.limits.check(self.received, after) {
            return Err(self.refuse(limit, after));
        }
        let written = self.out.write(buf)?;
        // A writer never reports more than it was given; stay safe anyway.
        self.hasher.update(buf.get(..written).unwrap_or(buf));
        self.written = self
            .written
            .saturating_add(u64::try_from(written).unwrap_or(u64::MAX));
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

enum State<W: Write> {
    /// Fewer than two bytes seen: gzip or not is still open.
    Sniffing { head: Vec<u8>, out: Hashing<W> },
    /// Not gzip: the bytes are the bill.
    Plain(Hashing<W>),
    /// Gzip: the decompressed bytes are the bill.
    Gzip(MultiGzDecoder<Hashing<W>>),
    /// A write failed; nothing more is accepted.
    Failed,
}

/// A finished decode.
pub(crate) struct Decoded<W> {
    /// The output writer, holding (or having received) the bill.
    pub(crate) out: W,
    /// The hash type and lower-case hex digest of the decompressed bill.
    pub(crate) digest: BillDigest,
    /// The decompressed size.
    pub(crate) len: u64,
    /// Whether the download was gzip.
    pub(crate) compressed: bool,
}

/// Feeds downloaded chunks in, writes the decompressed bill to `W`.
///
/// Errors are [`DownloadError::Decompress`] (corrupt gzip, or `W` failing)
/// and [`DownloadError::LimitExceeded`].
pub(crate) struct BillDecoder<W: Write> {
    state: State<W>,
}

impl<W: Write> BillDecoder<W> {
    /// A decoder writing to `out`, within the default [`BillLimits`],
    /// hashing with SHA-1.
    #[cfg_attr(not(feature = "fuzzing"), allow(dead_code))]
    pub(crate) fn new(out: W) -> Self {
        Self::with_limits(out, BillLimits::default())
    }

    /// A decoder writing to `out`, within `limits`, hashing with SHA-1.
    #[cfg_attr(not(feature = "fuzzing"), allow(dead_code))]
    pub(crate) fn with_limits(out: W, limits: BillLimits) -> Self {
        Self::with_hash(out, limits, BillHashType::Sha1)
    }

    /// A decoder writing to `out`, within `limits`, hashing the
    /// decompressed bill with `hash_type` as it comes out.
    pub(crate) fn with_hash(out: W, limits: BillLimits, hash_type: BillHashType) -> Self {
        BillDecoder {
            state: State::Sniffing {
                head: Vec::with_capacity(2),
                out: Hashing {
                    hasher: RunningHash::new(hash_type),
                    out,
                    written: 0,
                    received: 0,
                    limits,
                    exceeded: None,
                },
            },
        }
    }

    /// [`BillDecoder::try_push`] with the error as an [`io::Error`].
    #[cfg_attr(not(feature = "fuzzing"), allow(dead_code))]
    pub(crate) fn push(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.try_push(chunk).map_err(into_io)
    }

    /// [`BillDecoder::try_finish`] with the error as an [`io::Error`].
    #[cfg_attr(not(feature = "fuzzing"), allow(dead_code))]
    pub(crate) fn finish(self) -> io::Result<Decoded<W>> {
        self.try_finish().map_err(into_io)
    }

    /// Feeds the next downloaded chunk.
    pub(crate) fn try_push(&mut self, chunk: &[u8]) -> Result<(), DownloadError> {
        self.push_io(chunk).map_err(|error| self.fail(error))
    }

    fn push_io(&mut self, chunk: &[u8]) -> io::Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        if let State::Sniffing { head, .. } = &mut self.state {
            head.extend_from_slice(chunk);
            if head.len() < GZIP_MAGIC.len() {
                return Ok(());
            }
            let held = self.decide();
            return self.feed(&held);
        }
        self.feed(chunk)
    }

    /// Leaves `Sniffing` for `Plain` or `Gzip`; returns the bytes held
    /// back, still to be fed.
    fn decide(&mut self) -> Vec<u8> {
        let State::Sniffing { head, out } = std::mem::replace(&mut self.state, State::Failed)
        else {
            return Vec::new();
        };
        self.state = if head.starts_with(&GZIP_MAGIC) {
            State::Gzip(MultiGzDecoder::new(out))
        } else {
            State::Plain(out)
        };
        head
    }

    /// Feeds body bytes to the decided state, counting them first.
    fn feed(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.state {
            State::Plain(out) => {
                out.receive(data.len())?;
                out.write_all(data)
            }
            State::Gzip(decoder) => {
                for piece in data.chunks(GZIP_FEED) {
                    decoder.get_mut().receive(piece.len())?;
                    decoder.write_all(piece)?;
                }
                Ok(())
            }
            State::Sniffing { .. } | State::Failed => {
                Err(io::Error::other("the bill decoder failed earlier"))
            }
        }
    }

    /// `error` as a [`DownloadError`]: the limit that was hit, if that was
    /// it. The decoder accepts nothing more afterwards.
    fn fail(&mut self, error: io::Error) -> DownloadError {
        let exceeded = match &mut self.state {
            State::Sniffing { out, .. } | State::Plain(out) => {
                out.exceeded.take().map(|hit| (hit, out.received))
            }
            State::Gzip(decoder) => {
                let out = decoder.get_mut();
                out.exceeded.take().map(|hit| (hit, out.received))
            }
            State::Failed => None,
        };
        self.state = State::Failed;
        match exceeded {
            Some(((limit, decompressed), received)) => DownloadError::LimitExceeded {
                limit,
                received,
                decompressed,
            },
            None => DownloadError::Decompress(error),
        }
    }

    /// The output writer, to drain what was decoded so far. Gzip output
    /// may lag one chunk behind until [`BillDecoder::try_finish`].
    pub(crate) fn output_mut(&mut self) -> Option<&mut W> {
        match &mut self.state {
            State::Sniffing { out, .. } | State::Plain(out) => Some(&mut out.out),
            State::Gzip(decoder) => Some(&mut decoder.get_mut().out),
            State::Failed => None,
        }
    }

    /// Ends the download: completes decompression (checking the gzip
    /// trailer) and returns the output with the bill's digest.
    pub(crate) fn try_finish(mut self) -> Result<Decoded<W>, DownloadError> {
        if matches!(self.state, State::Sniffing { .. }) {
            // Fewer than two bytes in all: too short to be gzip.
            let State::Sniffing { head, out } = std::mem::replace(&mut self.state, State::Failed)
            else {
                return Err(DownloadError::Decompress(io::Error::other(
                    "unreachable decoder state",
                )));
            };
            self.state = State::Plain(out);
            self.feed(&head).map_err(|error| self.fail(error))?;
        }
        let completed = match &mut self.state {
            State::Gzip(decoder) => decoder.try_finish(),
            _ => Ok(()),
        };
        completed.map_err(|error| self.fail(error))?;
        let (hashing, compressed) = match std::mem::replace(&mut self.state, State::Failed) {
            State::Plain(out) => (out, false),
            State::Gzip(decoder) => (decoder.finish().map_err(DownloadError::Decompress)?, true),
            State::Sniffing { .. } | State::Failed => {
                return Err(DownloadError::Decompress(io::Error::other(
                    "the bill decoder failed earlier",
                )));
            }
        };
        Ok(Decoded {
            digest: hashing.hasher.finish(),
            len: hashing.written,
            out: hashing.out,
            compressed,
        })
    }
}

/// A decode error as an [`io::Error`]: the gzip error itself, or the
/// limit error wrapped.
fn into_io(error: DownloadError) -> io::Error {
    match error {
        DownloadError::Decompress(error) => error,
        other => io::Error::other(other),
    }
}

#[cfg(test)]
mod tests {
    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn sha1_hex(data: &[u8]) -> String {
        BillHashType::Sha1.hex_digest(data)
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn decode_in_chunks(input: &[u8], chunk: usize) -> Result<Decoded<Vec<u8>>, DownloadError> {
        decode_within(input, chunk, BillLimits::default())
    }

    fn decode_within(
        input: &[u8],
        chunk: usize,
        limits: BillLimits,
    ) -> Result<Decoded<Vec<u8>>, DownloadError> {
        let mut decoder = BillDecoder::with_limits(Vec::new(), limits);
        for piece in input.chunks(chunk) {
            decoder.try_push(piece)?;
        }
        decoder.try_finish()
    }

    const BILL: &[u8] = "交易时间,商户号\n`2020-03-05 09:25:07,`10000100\n".as_bytes();
    /// SHA-1 of [`BILL`].
    fn bill_sha1() -> String {
        sha1_hex(BILL)
    }

    #[test]
    fn plain_and_gzip_decode_to_the_same_bytes_in_any_chunking() {
        let compressed = gzip(BILL);
        for chunk in [1, 2, 3, 7, 1000] {
            let plain = decode_in_chunks(BILL, chunk).unwrap();
            assert_eq!(plain.out, BILL);
            assert!(!plain.compressed);
            assert_eq!(plain.digest.hex(), bill_sha1());
            let unzipped = decode_in_chunks(&compressed, chunk).unwrap();
            assert_eq!(unzipped.out, BILL, "chunk {chunk}");
            assert!(unzipped.compressed);
            assert_eq!(unzipped.digest.hex(), bill_sha1());
            assert_eq!(unzipped.len, BILL.len() as u64);
        }
    }

    #[test]
    fn every_hash_type_is_taken_over_the_decompressed_bill_in_any_chunking() {
        let compressed = gzip(BILL);
        for &hash_type in BillHashType::SUPPORTED {
            let expected = hash_type.hex_digest(BILL);
            assert_eq!(expected.len(), hash_type.hex_len());
            for input in [BILL, &compressed[..]] {
                for chunk in [1, 5, 64, 1000] {
                    let mut decoder =
                        BillDecoder::with_hash(Vec::new(), BillLimits::default(), hash_type);
                    for piece in input.chunks(chunk) {
                        decoder.try_push(piece).unwrap();
                    }
                    let decoded = decoder.try_finish().unwrap();
                    assert_eq!(decoded.out, BILL);
                    assert_eq!(decoded.digest.hash_type(), hash_type);
                    assert_eq!(decoded.digest.hex(), expected, "{hash_type}, chunk {chunk}");
                }
            }
        }
    }

    #[test]
    fn tiny_and_empty_bodies_are_plain() {
        let empty = decode_in_chunks(b"", 1).unwrap();
        assert!(empty.out.is_empty() && !empty.compressed);
        assert_eq!(
            empty.digest.hex(),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        let one = decode_in_chunks(&[0x1f], 1).unwrap();
        assert_eq!(one.out, [0x1f]);
    }

    #[test]
    fn concatenated_gzip_members_are_one_bill() {
        let (a, b) = BILL.split_at(10);
        let mut both = gzip(a);
        both.extend(gzip(b));
        let decoded = decode_in_chunks(&both, 5).unwrap();
        assert_eq!(decoded.out, BILL);
    }

    #[test]
    fn corrupt_or_truncated_gzip_is_an_error_never_a_panic() {
        let compressed = gzip(BILL);
        // Truncated anywhere after the magic bytes.
        for cut in 2..compressed.len() {
            assert!(
                decode_in_chunks(&compressed[..cut], 4).is_err(),
                "truncated at {cut} of {}",
                compressed.len()
            );
        }
        // A flipped bit in the deflate data or the CRC.
        for at in 10..compressed.len() {
            let mut bad = compressed.clone();
            bad[at] ^= 0x40;
            if let Ok(decoded) = decode_in_chunks(&bad, 3) {
                // Some bits do not matter; whatever came out, the hash
                // is the hash of what came out.
                assert_eq!(decoded.digest.hex(), sha1_hex(&decoded.out), "flip at {at}");
            }
        }
        // Magic bytes and garbage.
        assert!(decode_in_chunks(&[0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9], 2).is_err());
        // Trailing garbage after a member.
        let mut trailing = compressed.clone();
        trailing.extend_from_slice(b"garbage");
        assert!(decode_in_chunks(&trailing, 6).is_err());
    }

    #[test]
    fn output_can_be_drained_as_it_comes() {
        let data = b"0123456789".repeat(100_000);
        let compressed = gzip(&data);
        let mut decoder = BillDecoder::with_limits(Vec::new(), BillLimits::default());
        let mut drained = Vec::new();
        for piece in compressed.chunks(4096) {
            decoder.try_push(piece).unwrap();
            if let Some(out) = decoder.output_mut() {
                drained.append(out);
            }
        }
        let decoded = decoder.try_finish().unwrap();
        drained.extend(decoded.out);
        assert_eq!(drained, data);
        assert_eq!(decoded.len, data.len() as u64);
    }

    /// A gzip bomb: `len` zero bytes, compressed as hard as deflate goes
    /// (about 1000:1).
    fn bomb(len: usize) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        let zeros = vec![0u8; 1 << 20];
        let mut left = len;
        while left > 0 {
            let take = left.min(zeros.len());
            encoder.write_all(&zeros[..take]).unwrap();
            left -= take;
        }
        encoder.finish().unwrap()
    }

    /// A writer that remembers the most it ever held.
    #[derive(Default)]
    struct Peak {
        held: Vec<u8>,
        peak: usize,
    }

    impl Write for Peak {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.held.extend_from_slice(buf);
            self.peak = self.peak.max(self.held.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_bomb_stops_at_the_ratio_with_nothing_written_past_it() {
        let compressed = bomb(64 << 20);
        assert!(compressed.len() < 100 << 10, "{}", compressed.len());
        let limits = BillLimits::default();
        let mut decoder = BillDecoder::with_limits(Peak::default(), limits);
        let mut error = None;
        for piece in compressed.chunks(16 * 1024) {
            if let Err(e) = decoder.try_push(piece) {
                error = Some(e);
                break;
            }
        }
        let error = match error {
            Some(error) => error,
            None => decoder.try_finish().err().expect("the bomb is refused"),
        };
        let DownloadError::LimitExceeded {
            limit,
            received,
            decompressed,
        } = error
        else {
            panic!("{error:?}");
        };
        assert_eq!(
            limit,
            BillLimit::Ratio {
                max_ratio: 100,
                grace_bytes: 1 << 20
            }
        );
        assert!(decompressed > 100 * received, "{decompressed} {received}");
        // Stopped near the grace (1 MiB) plus 100 × what came in, far from
        // the 64 MiB the bomb holds.
        assert!(decompressed < 4 << 20, "{decompressed}");
    }

    #[test]
    fn the_size_limit_holds_for_plain_and_gzip_and_is_exact() {
        let data = b"`x,`y\n".repeat(10_000);
        let exact = data.len() as u64;
        let at = BillLimits::default().with_max_bytes(exact);
        assert_eq!(decode_within(&data, 4096, at).unwrap().out, data);
        assert_eq!(decode_within(&gzip(&data), 4096, at).unwrap().out, data);
        let below = at.with_max_bytes(exact - 1);
        for input in [data.clone(), gzip(&data)] {
            let mut peak = BillDecoder::with_limits(Peak::default(), below);
            let mut failed = None;
            for piece in input.chunks(1000) {
                if let Err(error) = peak.try_push(piece) {
                    failed = Some(error);
                    break;
                }
                assert!((peak.output_mut().unwrap().peak as u64) < exact);
            }
            let error = match failed {
                Some(error) => error,
                None => peak.try_finish().err().expect("over the limit"),
            };
            assert!(
                matches!(
                    error,
                    DownloadError::LimitExceeded {
                        limit: BillLimit::Size { max_bytes } | BillLimit::DownloadSize { max_bytes, .. },
                        ..
                    } if max_bytes == exact - 1
                ),
                "{error:?}"
            );
        }
    }

    #[test]
    fn tiny_bills_pass_whatever_their_ratio() {
        // 500 KiB of one byte: over 100:1, but under the 1 MiB grace.
        let data = vec![b'`'; 500 << 10];
        let decoded = decode_in_chunks(&bomb_of(&data), 1000).unwrap();
        assert_eq!(decoded.out, data);
    }

    fn bomb_of(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }
}

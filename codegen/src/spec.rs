//! Reading the WeChat Pay OpenAPI spec (Swagger 2.0, one file per path):
//! the operations under `v3/`, `$ref` resolution across files, `allOf`
//! merging, and example documents built from the per-field `example`s.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use serde_yaml::{Mapping, Value};

/// The HTTP methods an operation file may hold, in the order they are
/// generated.
pub const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The spec folder, with every file read so far.
pub struct Spec {
    root: PathBuf,
    files: RefCell<BTreeMap<PathBuf, Rc<Value>>>,
}

/// Which protocol an operation speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    /// APIv3: JSON, signed with the merchant's RSA key (`v3/`, `hk/v3/`,
    /// `global/v3/`).
    V3,
    /// APIv2: XML, signed with the APIv2 key (MD5 or HMAC-SHA256) (`v2/`).
    V2,
}

/// Which part of the spec an operation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// `v3/…`: APIv3 on `api.mch.weixin.qq.com`.
    V3,
    /// `hk/v3/…`: APIv3 of the Hong Kong site, sent as `/v3/…` to
    /// `apihk.mch.weixin.qq.com`.
    Hk,
    /// `global/v3/…`: APIv3 sent as is to `apihk.mch.weixin.qq.com`.
    Global,
    /// `v2/…`: APIv2, sent as `/…` (no `v2` prefix).
    V2,
}

/// The default host of WeChat Pay's API.
pub const DEFAULT_HOST: &str = "api.mch.weixin.qq.com";
/// The Hong Kong host (`hk/v3/…`, `global/v3/…`).
pub const HK_HOST: &str = "apihk.mch.weixin.qq.com";

/// The `wxpay::Host` variant of a host the spec names: the attribute's
/// `host = …` and the catalogue's `host` field both come from here.
pub fn host_variant(host: &str) -> Result<&'static str, String> {
    Ok(match host {
        DEFAULT_HOST => "Api",
        HK_HOST => "HongKong",
        "fraud.mch.weixin.qq.com" => "Fraud",
        "payapp.weixin.qq.com" => "PayApp",
        "payapp.mch.weixin.qq.com" => "PayAppMch",
        other => {
            return Err(format!(
                "unknown host `{other}`: add it to wxpay::Host and to spec::host_variant"
            ));
        }
    })
}

/// One operation: a method of one path file of the spec.
#[derive(Clone)]
pub struct Operation {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request path as it is sent: `/v3/…/{stock_id}/start` (the
    /// spec's `{empty}` last segment is a trailing `/`); `/hk/v3/x` is
    /// sent as `/v3/x`, `/v2/pay/micropay` as `/pay/micropay`.
    pub template: String,
    /// The segments of the path as it is sent, `{empty}` included:
    /// `["v3", "marketing", "favor", "stocks", "{stock_id}", "start"]`.
    pub segments: Vec<String>,
    /// The module path below `wxpay::api`: `["v3", …]`, `["hk", …]` (no
    /// `v3`), `["global", …]` (no `v3`), `["v2", "pay", "micropay"]`.
    pub module_segments: Vec<String>,
    /// The path as the spec keys it: `/hk/v3/…`, `/v2/pay/micropay`, `/v3/…`.
    pub spec_path: String,
    /// Where it comes from.
    pub group: Group,
    /// The host it is sent to, from `x-base-uri` or the group.
    pub host: String,
    /// The file, relative to the spec folder.
    pub file: PathBuf,
    /// The operation object.
    pub op: Value,
}

impl Operation {
    /// `"POST /v3/…"`, `"POST /hk/v3/…"`, `"POST /v2/pay/micropay"`: how
    /// the generator and the tests key it (the spec's path: unique, where
    /// the sent path is not: `/hk/v3/certificates` is sent as
    /// `/v3/certificates`).
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.spec_path)
    }

    /// The protocol it speaks.
    pub fn protocol(&self) -> Protocol {
        if self.group == Group::V2 {
            Protocol::V2
        } else {
            Protocol::V3
        }
    }

    /// The Cargo feature that compiles it: the area (`/v3/<area>/…`), or
    /// `<area>-<sub-area>` in an area too big for one feature
    /// ([`SPLIT_AREAS`]: `marketing-favor` for `/v3/marketing/favor/…`),
    /// `hk`, `global`, or `v2-<first segment>`.
    pub fn feature(&self) -> String {
        let at = |index: usize| self.segments.get(index).cloned().unwrap_or_default();
        match self.group {
            Group::V3 if self.is_split() => format!("{}-{}", at(1), at(2)),
            Group::V3 => at(1),
            Group::Hk => "hk".to_owned(),
            Group::Global => "global".to_owned(),
            Group::V2 => format!("v2-{}", at(0)),
        }
    }

    /// How many of [`module_segments`](Self::module_segments) name the
    /// module of its feature: `v3::marketing::favor` (3), `v3::pay` (2),
    /// `hk` (1), `v2::pay` (2).
    pub fn feature_depth(&self) -> usize {
        match self.group {
            Group::V3 if self.is_split() => 3,
            Group::V3 | Group::V2 => 2,
            Group::Hk | Group::Global => 1,
        }
    }

    fn is_split(&self) -> bool {
        self.group == Group::V3
            && self.segments.len() > 2
            && SPLIT_AREAS.contains(&self.segments[1].as_str())
    }
}

/// APIv3 areas whose sub-areas (`/v3/<area>/<sub-area>/…`) are features of
/// their own, `<area>-<sub-area>`, the area's feature turning them all on:
/// `marketing` alone is a fifth of the catalogue, and a merchant who hands
/// out coupons (`marketing-favor`) should not compile every other campaign
/// type.
pub const SPLIT_AREAS: &[&str] = &["marketing"];

fn template_of(segments: &[String]) -> String {
    let mut template = String::new();
    for segment in segments {
        template.push('/');
        if segment != "{empty}" {
            template.push_str(segment);
        }
    }
    template
}

/// Lexically normalizes `a/b/../c` into `a/c`.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// A YAML mapping key or scalar as text (`200` and `'200'` alike).
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `schema[key]` for a mapping, `None` otherwise.
pub fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.as_mapping().and_then(|m| m.get(key))
}

/// Whether a parameter says `required: true`.
pub fn is_required(param: &Value) -> bool {
    get(param, "required").and_then(Value::as_bool) == Some(true)
}

/// `schema[key]` as a string.
pub fn get_str<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    get(value, key).and_then(Value::as_str)
}

impl Spec {
    /// Opens the spec folder (the one holding `swagger.yaml` and `v3/`).
    pub fn open(root: impl Into<PathBuf>) -> Result<Spec, String> {
        let root = root.into();
        if !root.join("v3").is_dir() {
            return Err(format!("{}: no v3/ folder: not the spec", root.display()));
        }
        Ok(Spec {
            root,
            files: RefCell::new(BTreeMap::new()),
        })
    }

    /// Reads (once) the file at `rel`, relative to the spec folder, with
    /// its [corrections](crate::corrections) applied.
    pub fn load(&self, rel: &Path) -> Result<Rc<Value>, String> {
        let rel = normalize(rel);
        if let Some(value) = self.files.borrow().get(&rel) {
            return Ok(value.clone());
        }
        let text = fs::read_to_string(self.root.join(&rel))
            .map_err(|e| format!("{}: {e}", rel.display()))?;
        let mut value: Value =
            serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", rel.display()))?;
        crate::corrections::apply(&rel, &mut value);
        let value = Rc::new(value);
        self.files.borrow_mut().insert(rel, value.clone());
        Ok(value)
    }

    /// Every operation under `v3/`, sorted by path then method.
    pub fn operations(&self) -> Result<Vec<Operation>, String> {
        self.group_operations(Group::V3)
    }

    /// Every operation of the spec: `v3/` first (as [`Spec::operations`]),
    /// then `hk/v3/`, `global/v3/` and `v2/`, each sorted by path then
    /// method.
    pub fn all_operations(&self) -> Result<Vec<Operation>, String> {
        let mut ops = Vec::new();
        for group in [Group::V3, Group::Hk, Group::Global, Group::V2] {
            ops.extend(self.group_operations(group)?);
        }
        Ok(ops)
    }

    /// The operations of one group, sorted by path then method.
    pub fn group_operations(&self, group: Group) -> Result<Vec<Operation>, String> {
        let base = match group {
            Group::V3 => "v3",
            Group::Hk => "hk/v3",
            Group::Global => "global/v3",
            Group::V2 => "v2",
        };
        let mut files = Vec::new();
        if self.root.join(base).is_dir() {
            collect(&self.root, Path::new(base), &mut files)?;
        }
        files.sort();
        let mut ops = Vec::new();
        for file in files {
            let doc = self.load(&file)?;
            let stem = file.with_extension("");
            let all: Vec<String> = stem
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let (segments, module_segments): (Vec<String>, Vec<String>) = match group {
                Group::V3 => (all.clone(), all.clone()),
                // hk/v3/x → /v3/x, module hk::x.
                Group::Hk => (
                    all[1..].to_vec(),
                    std::iter::once(all[0].clone())
                        .chain(all[2..].iter().cloned())
                        .collect(),
                ),
                // global/v3/x → /global/v3/x, module global::x.
                Group::Global => (
                    all.clone(),
                    std::iter::once(all[0].clone())
                        .chain(all[2..].iter().cloned())
                        .collect(),
                ),
                // v2/pay/micropay → /pay/micropay, module v2::pay::micropay.
                Group::V2 => (all[1..].to_vec(), all.clone()),
            };
            let template = template_of(&segments);
            let spec_path = template_of(&all);
            for method in METHODS {
                if let Some(op) = get(&doc, method) {
                    let host = match get_str(op, "x-base-uri") {
                        Some(uri) => uri
                            .trim()
                            .trim_start_matches("https://")
                            .trim_start_matches("http://")
                            .trim_end_matches('/')
                            .to_owned(),
                        None if matches!(group, Group::Hk | Group::Global) => HK_HOST.to_owned(),
                        None => DEFAULT_HOST.to_owned(),
                    };
                    ops.push(Operation {
                        method: method.to_ascii_uppercase(),
                        template: template.clone(),
                        segments: segments.clone(),
                        module_segments: module_segments.clone(),
                        spec_path: spec_path.clone(),
                        group,
                        host,
                        file: file.clone(),
                        op: op.clone(),
                    });
                }
            }
        }
        Ok(ops)
    }

    /// Resolves `reference` written in `file`: `other.yaml#/Name`,
    /// `other.yaml#Name` (no leading `/`), `#Name` (same file). Returns the
    /// target's file, the fragment's last name and the target.
    pub fn resolve(&self, file: &Path, reference: &str) -> Result<Target, String> {
        let (path, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let target_file = if path.is_empty() {
            file.to_path_buf()
        } else {
            normalize(&file.parent().unwrap_or(Path::new("")).join(path))
        };
        let doc = self.load(&target_file)?;
        let mut value: &Value = &doc;
        let mut name = String::new();
        for part in fragment.split('/').filter(|p| !p.is_empty()) {
            value = get(value, part)
                .ok_or_else(|| format!("{}: `{reference}` names nothing", file.display()))?;
            name = part.to_owned();
        }
        Ok(Target {
            file: target_file,
            name,
            value: value.clone(),
        })
    }

    /// Follows `$ref`s until a schema that is not a reference.
    pub fn deref(&self, file: &Path, schema: &Value) -> Result<(PathBuf, Value), String> {
        let mut file = file.to_path_buf();
        let mut schema = schema.clone();
        for _ in 0..32 {
            match get_str(&schema, "$ref") {
                Some(reference) => {
                    let target = self.resolve(&file, reference)?;
                    file = target.file;
                    schema = target.value;
                }
                None => return Ok((file, schema)),
            }
        }
        Err(format!("{}: a `$ref` loop", file.display()))
    }

    /// Merges an `allOf` (each part resolved) into one object schema:
    /// properties in order, `required` lists joined. A property that
    /// several parts declare keeps every declaration (its parts), to be
    /// merged in turn (`allOf` applies all of them). Members the schema's
    /// [`OPTIONAL_KEY`](crate::corrections::OPTIONAL_KEY) lists are not
    /// required, whatever a part says. References stay
    /// relative to the file they were written in, so each part comes with
    /// its file.
    pub fn flatten(&self, file: &Path, schema: &Value) -> Result<Flat, String> {
        let (file, schema) = self.deref(file, schema)?;
        let mut flat = Flat {
            properties: Vec::new(),
            required: Vec::new(),
            schema: schema.clone(),
            file: file.clone(),
        };
        if let Some(parts) = get(&schema, "allOf").and_then(Value::as_sequence) {
            for part in parts {
                let inner = self.flatten(&file, part)?;
                flat.absorb(inner);
            }
        }
        if let Some(props) = get(&schema, "properties").and_then(Value::as_mapping) {
            for (name, prop) in props {
                let Some(name) = scalar_text(name) else {
                    continue;
                };
                flat.add(name, vec![(file.clone(), prop.clone())]);
            }
        }
        if let Some(required) = get(&schema, "required").and_then(Value::as_sequence) {
            flat.required
                .extend(required.iter().filter_map(scalar_text));
        }
        if let Some(optional) =
            get(&schema, crate::corrections::OPTIONAL_KEY).and_then(Value::as_sequence)
        {
            let optional: Vec<String> = optional.iter().filter_map(scalar_text).collect();
            flat.required.retain(|name| !optional.contains(name));
        }
        Ok(flat)
    }

    /// [`Spec::flatten`] of several schemas that all apply.
    pub fn flatten_parts(&self, parts: &[(PathBuf, Value)]) -> Result<Flat, String> {
        let mut flat: Option<Flat> = None;
        for (file, schema) in parts {
            let inner = self.flatten(file, schema)?;
            match flat.as_mut() {
                None => flat = Some(inner),
                Some(flat) => flat.absorb(inner),
            }
        }
        flat.ok_or_else(|| "no schema".to_owned())
    }

    /// The parameters of `op` (written in `file`), references resolved:
    /// `(parameter, file it was written in)`.
    pub fn parameters(&self, file: &Path, op: &Value) -> Result<Vec<(Value, PathBuf)>, String> {
        let mut out = Vec::new();
        for param in get(op, "parameters")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            let (param_file, param) = self.deref(file, param)?;
            out.push((param, param_file));
        }
        Ok(out)
    }

    /// An example document for `schema`, built from the spec's per-field
    /// `example`s (or an enum's first value): `None` when a required part
    /// has none. Optional fields without an example are left out.
    pub fn example(
        &self,
        file: &Path,
        schema: &Value,
    ) -> Result<Option<serde_json::Value>, String> {
        self.example_parts(&[(file.to_path_buf(), schema.clone())])
    }

    /// [`Spec::example`] of several schemas that all apply.
    pub fn example_parts(
        &self,
        parts: &[(PathBuf, Value)],
    ) -> Result<Option<serde_json::Value>, String> {
        let Some((file, schema)) = parts.last() else {
            return Ok(None);
        };
        let (file, schema) = self.deref(file, schema)?;
        let kind = kind_of(&schema);
        if kind == Kind::Object {
            let flat = self.flatten_parts(parts)?;
            if flat.properties.is_empty() {
                return Ok(get(&schema, "example").map(to_json));
            }
            let mut out = serde_json::Map::new();
            for (name, prop_parts) in &flat.properties {
                match self.example_parts(prop_parts)? {
                    Some(value) => {
                        out.insert(name.clone(), value);
                    }
                    None if flat.required.contains(name) => return Ok(None),
                    None => {}
                }
            }
            return Ok(Some(serde_json::Value::Object(out)));
        }
        if let Some(example) = get(&schema, "example") {
            return Ok(Some(coerce(kind, to_json(example))));
        }
        match kind {
            Kind::Array => {
                let Some(items) = get(&schema, "items") else {
                    return Ok(None);
                };
                Ok(self
                    .example(&file, items)?
                    .map(|item| serde_json::Value::Array(vec![item])))
            }
            _ => Ok(get(&schema, "enum")
                .and_then(Value::as_sequence)
                .and_then(|values| values.first())
                .map(|first| coerce(kind, to_json(first)))),
        }
    }
}

/// What a `$ref` points at.
pub struct Target {
    /// The file the target is in.
    pub file: PathBuf,
    /// The fragment's last name (`IdType`), empty for a whole file.
    pub name: String,
    /// The target.
    pub value: Value,
}

/// An object schema with its `allOf` parts merged.
pub struct Flat {
    /// `(name, [(file the declaration was written in, schema)])`, in
    /// order; usually one declaration, several when `allOf` parts each
    /// declare the property.
    pub properties: Vec<(String, Vec<(PathBuf, Value)>)>,
    /// The required property names.
    pub required: Vec<String>,
    /// The schema itself (references followed).
    pub schema: Value,
    /// The file the schema is in.
    pub file: PathBuf,
}

impl Flat {
    fn add(&mut self, name: String, parts: Vec<(PathBuf, Value)>) {
        match self.properties.iter_mut().find(|(n, _)| *n == name) {
            Some((_, existing)) => existing.extend(parts),
            None => self.properties.push((name, parts)),
        }
    }

    fn absorb(&mut self, other: Flat) {
        for (name, parts) in other.properties {
            self.add(name, parts);
        }
        self.required.extend(other.required);
    }
}

/// The broad kind of a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A JSON object.
    Object,
    /// A JSON array.
    Array,
    /// Text.
    String,
    /// A whole number.
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// An uploaded file (`formData`).
    File,
}

/// The kind of `schema`, tolerating the spec's typos (`string `,
/// `stringde`, `int`) and schemas that only imply their type.
///
/// `type: number` is a whole number unless its `format` (`float`,
/// `double`) or its example has a fraction: the spec writes `number` for
/// amounts in fen, counts, offsets and limits (all but one of its number
/// examples are whole), which WeChat Pay reads as integers; sent as
/// `400000.0`, as a float field would send them, they are refused.
pub fn kind_of(schema: &Value) -> Kind {
    match get_str(schema, "type").map(str::trim) {
        Some("object") => Kind::Object,
        Some("array") => Kind::Array,
        Some("integer" | "int") => Kind::Integer,
        Some("number") if has_fraction(schema) => Kind::Number,
        Some("number") => Kind::Integer,
        Some("boolean") => Kind::Boolean,
        Some("file") => Kind::File,
        Some(_) => Kind::String,
        None if get(schema, "properties").is_some() || get(schema, "allOf").is_some() => {
            Kind::Object
        }
        None if get(schema, "items").is_some() => Kind::Array,
        None => Kind::String,
    }
}

/// Whether a `type: number` schema admits fractions: its format is a
/// floating-point one, or its example is not a whole number.
fn has_fraction(schema: &Value) -> bool {
    let format = get_str(schema, "format").map(str::trim);
    if matches!(format, Some("float" | "double")) {
        return true;
    }
    get(schema, "example")
        .and_then(scalar_text)
        .is_some_and(|example| {
            example.trim().parse::<i64>().is_err() && example.trim().parse::<f64>().is_ok()
        })
}

/// An example value in the JSON type its schema says (the spec writes
/// `example: 100` for strings and `example: '100'` for integers alike).
fn coerce(kind: Kind, value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match (kind, &value) {
        (Kind::String, J::Number(n)) => J::String(n.to_string()),
        (Kind::String, J::Bool(b)) => J::String(b.to_string()),
        (Kind::Integer, J::String(s)) => s.trim().parse::<i64>().map(J::from).unwrap_or(value),
        (Kind::Number, J::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(J::Number)
            .unwrap_or(value),
        (Kind::Boolean, J::String(s)) if s == "true" || s == "false" => J::Bool(s == "true"),
        // The spec writes some array examples as text: a JSON array, or a
        // comma-separated list.
        (Kind::Array, J::String(s)) => serde_json::from_str::<Vec<J>>(s)
            .map(J::Array)
            .unwrap_or_else(|_| J::Array(s.split(',').map(|p| J::String(p.to_owned())).collect())),
        _ => value,
    }
}

/// YAML to JSON (mapping keys as text).
pub fn to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                J::from(i)
            } else if let Some(u) = n.as_u64() {
                J::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(J::Null, J::Number)
            }
        }
        Value::String(s) => J::String(s.clone()),
        Value::Sequence(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Mapping(map) => J::Object(mapping_to_json(map)),
        Value::Tagged(tagged) => to_json(&tagged.value),
    }
}

fn mapping_to_json(map: &Mapping) -> serde_json::Map<String, serde_json::Value> {
    map.iter()
        .filter_map(|(k, v)| scalar_text(k).map(|k| (k, to_json(v))))
        .collect()
}

fn collect(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let dir = root.join(rel);
    let entries = fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let name = entry.file_name();
        let child = rel.join(&name);
        if entry.file_type().map_err(|e| e.to_string())?.is_dir() {
            collect(root, &child, out)?;
        } else if name.to_string_lossy().ends_with(".yaml") {
            out.push(child);
        }
    }
    Ok(())
}

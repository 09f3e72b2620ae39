//! Parameter values for `klc eval`: a JSON object of numbers and nested arrays, or a directory
//! of `NAME.npy` files. Every failure is one line naming the file and, where known, the
//! parameter and the element.

use crate::npy;
use kl_compiler::interp::Tensor;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

pub type Inputs = BTreeMap<String, Tensor<f64>>;

/// Load `path`: a directory of `.npy` files, or else a JSON file.
pub fn load(path: &Path) -> Result<Inputs, String> {
    if path.is_dir() {
        load_npy_dir(path)
    } else {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read data file `{}`: {}", path.display(), io_cause(&e)))?;
        from_json(&text).map_err(|e| format!("in data file `{}`: {e}", path.display()))
    }
}

/// The error's cause without Rust's ` (os error 2)` suffix.
pub fn io_cause(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn load_npy_dir(dir: &Path) -> Result<Inputs, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read data directory `{}`: {}", dir.display(), io_cause(&e)))?;
    let mut inputs = Inputs::new();
    for entry in entries {
        let path =
            entry.map_err(|e| format!("cannot read data directory `{}`: {}", dir.display(), io_cause(&e)))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("npy") {
            continue;
        }
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else { continue };
        let bytes = std::fs::read(&path).map_err(|e| format!("cannot read `{}`: {}", path.display(), io_cause(&e)))?;
        let t = npy::read(&bytes).map_err(|e| format!("in `{}`: {e}", path.display()))?;
        inputs.insert(name.to_string(), t);
    }
    if inputs.is_empty() {
        return Err(format!("the data directory `{}` holds no .npy files", dir.display()));
    }
    Ok(inputs)
}

/// Parse a JSON object of parameter values. A name given twice is an error (JSON parsers
/// differ on which value wins; a silent choice would be a wrong answer).
pub fn from_json(text: &str) -> Result<Inputs, String> {
    let Entries(entries) = serde_json::from_str(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => e.to_string(),
        _ => format!("invalid JSON: {e}"),
    })?;
    entries
        .into_iter()
        .map(|(name, v)| {
            let t = tensor(&v).map_err(|e| format!("parameter `{name}`: {e}"))?;
            Ok((name, t))
        })
        .collect()
}

/// The top-level object's entries in document order, refusing a repeated name.
struct Entries(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EntriesVisitor)
    }
}

struct EntriesVisitor;

impl EntriesVisitor {
    fn not_an_object<E: serde::de::Error>(found: &str) -> E {
        E::custom(format!("expected a JSON object mapping parameter names to values, found {found}"))
    }
}

impl<'de> serde::de::Visitor<'de> for EntriesVisitor {
    type Value = Entries;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object mapping parameter names to values")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
        let mut out: Vec<(String, Value)> = Vec::new();
        while let Some(name) = map.next_key::<String>()? {
            if out.iter().any(|(n, _)| *n == name) {
                return Err(serde::de::Error::custom(format!(
                    "the entry `{name}` is given twice; give each parameter once"
                )));
            }
            let value = map.next_value::<Value>()?;
            out.push((name, value));
        }
        Ok(Entries(out))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<Entries, A::Error> {
        Err(Self::not_an_object("an array"))
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Entries, E> {
        Err(Self::not_an_object("a boolean"))
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Entries, E> {
        Err(Self::not_an_object("a number"))
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Entries, E> {
        Err(Self::not_an_object("a number"))
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Entries, E> {
        Err(Self::not_an_object("a number"))
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Entries, E> {
        Err(Self::not_an_object("a string"))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Entries, E> {
        Err(Self::not_an_object("null"))
    }
}

/// A number or a rectangular nest of arrays of numbers; the nesting gives the shape.
fn tensor(v: &Value) -> Result<Tensor<f64>, String> {
    // The shape follows the first element at every depth; `fill` checks every other element.
    let mut shape = Vec::new();
    let mut cur = v;
    while let Value::Array(items) = cur {
        shape.push(items.len());
        match items.first() {
            Some(first) => cur = first,
            None => break,
        }
    }
    let mut data = Vec::with_capacity(shape.iter().product());
    fill(v, &shape, &mut Vec::new(), &mut data)?;
    Ok(Tensor { shape, data })
}

fn fill(v: &Value, dims: &[usize], at: &mut Vec<usize>, out: &mut Vec<f64>) -> Result<(), String> {
    match (v, dims.split_first()) {
        (Value::Number(n), None) => {
            out.push(n.as_f64().ok_or_else(|| format!("the number at {} is out of range", index(at)))?);
            Ok(())
        }
        (Value::Array(items), Some((&n, rest))) if items.len() == n => {
            for (i, item) in items.iter().enumerate() {
                at.push(i);
                fill(item, rest, at, out)?;
                at.pop();
            }
            Ok(())
        }
        (Value::Array(items), Some((&n, _))) => Err(format!(
            "ragged array: the array at {} has {} elements, but its first sibling has {n}",
            index(at),
            items.len()
        )),
        (Value::Array(_), None) => {
            Err(format!("ragged array: the element at {} is an array, but its first sibling is a number", index(at)))
        }
        (Value::Number(_), Some(_)) => {
            Err(format!("ragged array: the element at {} is a number, but its first sibling is an array", index(at)))
        }
        (other, _) => Err(format!("expected a number or an array, found {} at {}", kind(other), index(at))),
    }
}

fn index(at: &[usize]) -> String {
    if at.is_empty() {
        return "the top level".into();
    }
    let mut s = String::from("index [");
    for (k, i) in at.iter().enumerate() {
        let _ = write!(s, "{}{i}", if k > 0 { ", " } else { "" });
    }
    s + "]"
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(json: &str) -> Result<Tensor<f64>, String> {
        from_json(&format!("{{\"x\": {json}}}")).map(|mut m| m.remove("x").unwrap())
    }

    #[test]
    fn nesting_gives_the_shape() {
        assert_eq!(one("2.5"), Ok(Tensor { shape: vec![], data: vec![2.5] }));
        assert_eq!(one("[1, 2]"), Ok(Tensor { shape: vec![2], data: vec![1.0, 2.0] }));
        assert_eq!(one("[[1, 2, 3], [4, 5, 6]]").unwrap().shape, vec![2, 3]);
        assert_eq!(one("[]"), Ok(Tensor { shape: vec![0], data: vec![] }));
        assert_eq!(one("[[], []]").unwrap().shape, vec![2, 0]);
        assert_eq!(one("[[[-1e-3]]]").unwrap().data, vec![-1e-3]);
    }

    #[test]
    fn ragged_and_non_numeric_values_name_the_element() {
        assert_eq!(
            one("[[1, 2], [3]]").unwrap_err(),
            "parameter `x`: ragged array: the array at index [1] has 1 elements, but its first sibling has 2"
        );
        assert!(one("[[1], 2]").unwrap_err().contains("the element at index [1] is a number"));
        assert!(one("[1, [2]]").unwrap_err().contains("the element at index [1] is an array"));
        assert_eq!(
            one("[1, \"2\"]").unwrap_err(),
            "parameter `x`: expected a number or an array, found a string at index [1]"
        );
        assert!(one("null").unwrap_err().contains("found null at the top level"));
        assert!(one("{\"a\": 1}").unwrap_err().contains("found an object"));
    }

    #[test]
    fn a_name_given_twice_is_an_error_naming_it() {
        let err = from_json(r#"{"m": 1, "s": 1, "m": 2}"#).unwrap_err();
        assert!(err.starts_with("the entry `m` is given twice"), "{err}");
        // Distinct names in any order are fine, and keep their values.
        let ok = from_json(r#"{"s": 2, "m": [1, 3]}"#).unwrap();
        assert_eq!(ok["s"].data, vec![2.0]);
        assert_eq!(ok["m"].data, vec![1.0, 3.0]);
    }

    #[test]
    fn the_document_must_be_an_object_of_valid_json() {
        assert!(from_json("3").unwrap_err().contains("expected a JSON object"));
        assert!(from_json("null").unwrap_err().contains("found null"));
        assert!(from_json("\"m\"").unwrap_err().contains("found a string"));
        assert!(from_json("[1, 2]").unwrap_err().contains("expected a JSON object"));
        assert!(from_json("{\"x\": [1, 2,]}").unwrap_err().starts_with("invalid JSON"));
        assert!(from_json("{\"x\": NaN}").unwrap_err().starts_with("invalid JSON"));
    }
}

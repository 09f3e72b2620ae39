//! The committed mpmath reference cases (`tests/reference/cases.json`), as the emitted-code
//! tests read them.

use serde_json::Value;
use std::collections::BTreeMap;

pub fn flatten(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Array(items) => items.iter().for_each(|x| flatten(x, out)),
        // JSON has no infinity: an infinite KL is the string "inf".
        Value::String(s) if s == "inf" => out.push(f64::INFINITY),
        x => out.push(x.as_f64().unwrap()),
    }
}

/// Every case, by name.
pub fn cases() -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../reference/cases.json")).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    json["cases"].as_array().unwrap().iter().map(|c| (c["name"].as_str().unwrap().to_string(), c.clone())).collect()
}

/// A parameter's name, shape and values (flat, row-major).
pub type Values = (String, Vec<usize>, Vec<f64>);

/// A case's expression compiled with the shapes of its data, and its parameters' values (with
/// their shapes) in the emitted functions' argument order.
pub fn compile(case: &Value) -> (kl_compiler::Ir, Vec<Values>) {
    let shape_of = |v: &Value| {
        let mut shape = Vec::new();
        let mut x = v;
        while let Value::Array(items) = x {
            shape.push(items.len());
            x = &items[0];
        }
        shape
    };
    let data = case["data"].as_object().unwrap();
    let env = data.iter().map(|(k, v)| (k.clone(), kl_compiler::Shape::of(&shape_of(v)))).collect();
    let ir = kl_compiler::compile(case["expr"].as_str().unwrap(), &env).unwrap().simplified;
    let (params, _) = kl_codegen::emit::arguments(&ir);
    let values = params
        .iter()
        .map(|p| {
            let mut v = Vec::new();
            flatten(&data[p], &mut v);
            (p.clone(), shape_of(&data[p]), v)
        })
        .collect();
    (ir, values)
}

//! A reader for NumPy `.npy` files: little-endian `<f8` / `<f4`, C order, format versions
//! 1.0, 2.0 and 3.0, any rank (scalars have shape `()`). Everything else is refused with a
//! one-line cause.
//!
//! Layout: the magic `\x93NUMPY`, a major and minor version byte, the header length (`u16` LE
//! in 1.0, `u32` LE in 2.0 and 3.0), a header that is a Python dict literal such as
//! `{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }`, then the raw data.

use kl_compiler::interp::Tensor;

const MAGIC: &[u8] = b"\x93NUMPY";

/// Decode an `.npy` file's bytes into an `f64` tensor (`<f4` values are widened exactly).
pub fn read(bytes: &[u8]) -> Result<Tensor<f64>, String> {
    let rest = bytes.strip_prefix(MAGIC).ok_or("not an .npy file (the magic string `\\x93NUMPY` is missing)")?;
    let (&major, rest) = rest.split_first().ok_or("truncated header")?;
    let (&minor, rest) = rest.split_first().ok_or("truncated header")?;
    let (len, rest) = match major {
        1 => take(rest, 2).map(|(b, r)| (u16::from_le_bytes([b[0], b[1]]) as usize, r))?,
        2 | 3 => take(rest, 4).map(|(b, r)| (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, r))?,
        _ => return Err(format!("unsupported .npy format version {major}.{minor} (1.0, 2.0 and 3.0 are read)")),
    };
    let (header, data) = take(rest, len)?;
    // Version 3.0 allows UTF-8 in the header; 1.0 and 2.0 are Latin-1, of which ASCII is enough here.
    let header = std::str::from_utf8(header).map_err(|_| "the header is not valid text".to_string())?;
    let header = Header::parse(header)?;
    if header.fortran_order {
        return Err("Fortran-order arrays are not supported; save the array in C order".into());
    }
    let width = match header.descr.as_str() {
        "<f8" => 8,
        "<f4" => 4,
        other => {
            return Err(format!(
                "unsupported dtype `{other}`: only little-endian float64 (`<f8`) and float32 (`<f4`) are read"
            ))
        }
    };
    let count = header.shape.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n)).ok_or("the shape is too large")?;
    let expected = count.checked_mul(width).ok_or("the shape is too large")?;
    if data.len() < expected {
        return Err(format!(
            "truncated data: shape {:?} needs {expected} bytes, the file has {}",
            header.shape,
            data.len()
        ));
    }
    if data.len() > expected {
        return Err(format!("{} unexpected bytes after the data of shape {:?}", data.len() - expected, header.shape));
    }
    let values: Vec<f64> = if width == 8 {
        data.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect()
    } else {
        data.chunks_exact(4).map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes")))).collect()
    };
    Ok(Tensor { shape: header.shape, data: values })
}

fn take(bytes: &[u8], n: usize) -> Result<(&[u8], &[u8]), String> {
    if bytes.len() < n {
        Err(format!("truncated header: expected {n} more bytes, the file has {}", bytes.len()))
    } else {
        Ok(bytes.split_at(n))
    }
}

/// The three keys of an `.npy` header.
#[derive(Debug, PartialEq)]
struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

impl Header {
    /// Parse the dict literal; keys may come in any order, all three are required.
    fn parse(text: &str) -> Result<Header, String> {
        let bad = |what: &str| format!("malformed header ({what}): {}", text.trim_end());
        let mut p = Lexer { s: text.trim_end_matches(['\n', ' ', '\0']) };
        let (mut descr, mut fortran, mut shape) = (None, None, None);
        p.expect('{').map_err(|_| bad("expected `{`"))?;
        while !p.eat('}') {
            let key = p.string().ok_or_else(|| bad("expected a quoted key"))?;
            p.expect(':').map_err(|_| bad("expected `:`"))?;
            match key.as_str() {
                "descr" => descr = Some(p.string().ok_or_else(|| bad("`descr` must be a string"))?),
                "fortran_order" => {
                    fortran = Some(p.boolean().ok_or_else(|| bad("`fortran_order` must be True or False"))?)
                }
                "shape" => shape = Some(p.tuple().ok_or_else(|| bad("`shape` must be a tuple of integers"))?),
                other => return Err(bad(&format!("unknown key `{other}`"))),
            }
            if !p.eat(',') {
                p.expect('}').map_err(|_| bad("expected `,` or `}`"))?;
                break;
            }
        }
        if !p.s.trim().is_empty() {
            return Err(bad("text after the dict"));
        }
        Ok(Header {
            descr: descr.ok_or_else(|| bad("no `descr`"))?,
            fortran_order: fortran.ok_or_else(|| bad("no `fortran_order`"))?,
            shape: shape.ok_or_else(|| bad("no `shape`"))?,
        })
    }
}

/// Just enough of Python's literal syntax for the header dict.
struct Lexer<'a> {
    s: &'a str,
}

impl Lexer<'_> {
    fn skip_ws(&mut self) {
        self.s = self.s.trim_start();
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        match self.s.strip_prefix(c) {
            Some(rest) => {
                self.s = rest;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, c: char) -> Result<(), ()> {
        self.eat(c).then_some(()).ok_or(())
    }

    fn string(&mut self) -> Option<String> {
        self.skip_ws();
        let quote = self.s.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let body = &self.s[1..];
        let end = body.find(quote)?;
        self.s = &body[end + 1..];
        Some(body[..end].to_string())
    }

    fn boolean(&mut self) -> Option<bool> {
        self.skip_ws();
        for (word, v) in [("True", true), ("False", false)] {
            if let Some(rest) = self.s.strip_prefix(word) {
                self.s = rest;
                return Some(v);
            }
        }
        None
    }

    fn tuple(&mut self) -> Option<Vec<usize>> {
        self.expect('(').ok()?;
        let mut dims = Vec::new();
        loop {
            if self.eat(')') {
                return Some(dims);
            }
            let digits = self.s.find(|c: char| !c.is_ascii_digit()).unwrap_or(self.s.len());
            dims.push(self.s[..digits].parse().ok()?);
            self.s = &self.s[digits..];
            // Python writes `(3,)` for rank 1 and some writers emit `3L` (Python 2 longs).
            self.eat('L');
            if !self.eat(',') {
                self.expect(')').ok()?;
                return Some(dims);
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An `.npy` file built by hand: header padded with spaces to a multiple of 64 bytes.
    pub fn npy(major: u8, descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
        let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
        let shape = match dims.len() {
            1 => format!("({},)", dims[0]),
            _ => format!("({})", dims.join(", ")),
        };
        let fortran = if fortran { "True" } else { "False" };
        let mut header = format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
        let prefix = MAGIC.len() + 2 + if major == 1 { 2 } else { 4 };
        while !(prefix + header.len() + 1).is_multiple_of(64) {
            header.push(' ');
        }
        header.push('\n');
        let mut out = MAGIC.to_vec();
        out.extend([major, 0]);
        if major == 1 {
            out.extend((header.len() as u16).to_le_bytes());
        } else {
            out.extend((header.len() as u32).to_le_bytes());
        }
        out.extend(header.as_bytes());
        out.extend(data);
        out
    }

    pub fn f8(values: &[f64]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn f4(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn reads_float64_matrices_in_every_format_version() {
        for major in [1, 2, 3] {
            let t = read(&npy(major, "<f8", false, &[2, 3], &f8(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]))).unwrap();
            assert_eq!(t.shape, vec![2, 3]);
            assert_eq!(t.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.5]);
        }
    }

    #[test]
    fn widens_float32_exactly() {
        let t = read(&npy(1, "<f4", false, &[2], &f4(&[0.1, -2.5]))).unwrap();
        assert_eq!(t.data, vec![f64::from(0.1f32), -2.5]);
    }

    #[test]
    fn scalars_vectors_and_empty_arrays() {
        let t = read(&npy(1, "<f8", false, &[], &f8(&[0.25]))).unwrap();
        assert_eq!((t.shape.clone(), t.data.clone()), (vec![], vec![0.25]));
        let t = read(&npy(1, "<f8", false, &[3], &f8(&[1.0, 2.0, 3.0]))).unwrap();
        assert_eq!(t.shape, vec![3]);
        let t = read(&npy(1, "<f8", false, &[0, 4], &[])).unwrap();
        assert_eq!((t.shape, t.data.len()), (vec![0, 4], 0));
        let t = read(&npy(2, "<f8", false, &[1, 1, 2, 1], &f8(&[7.0, 8.0]))).unwrap();
        assert_eq!(t.shape, vec![1, 1, 2, 1]);
    }

    #[test]
    fn header_keys_in_any_order_and_double_quotes() {
        let h = Header::parse("{\"shape\": (4, 2), \"fortran_order\": False, \"descr\": \"<f4\"}\n").unwrap();
        assert_eq!(h, Header { descr: "<f4".into(), fortran_order: false, shape: vec![4, 2] });
    }

    #[test]
    fn refuses_what_it_cannot_read_with_a_cause() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (npy(1, "<f8", true, &[2, 2], &f8(&[1.0; 4])), "Fortran-order"),
            (npy(1, ">f8", false, &[1], &f8(&[1.0])), "unsupported dtype `>f8`"),
            (npy(1, "<i4", false, &[1], &[0; 4]), "unsupported dtype `<i4`"),
            (npy(1, "<f8", false, &[2, 2], &f8(&[1.0; 3])), "truncated data"),
            (npy(1, "<f8", false, &[1], &f8(&[1.0; 2])), "unexpected bytes"),
            (b"PK\x03\x04 not numpy".to_vec(), "not an .npy file"),
            (MAGIC.iter().copied().chain([1, 0, 200, 0, b'{']).collect(), "truncated header"),
            (npy(4, "<f8", false, &[1], &f8(&[1.0])), "format version 4.0"),
        ];
        for (bytes, cause) in cases {
            let err = read(&bytes).unwrap_err();
            assert!(err.contains(cause), "{err:?} should mention {cause:?}");
            assert!(!err.contains('\n'), "one line: {err:?}");
        }
    }

    #[test]
    fn malformed_headers_are_errors_not_panics() {
        for h in
            ["", "{", "{'descr': '<f8'", "{'descr': 1}", "{'shape': (a,)}", "{'descr': '<f8', 'fortran_order': False}"]
        {
            assert!(Header::parse(h).is_err(), "{h:?}");
        }
    }
}

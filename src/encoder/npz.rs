//! Reading the encoder's published weights: a NumPy `.npz` archive (a zip of `.npy` files),
//! little-endian `float32`, `uint8`, `int8` or `float64` arrays in C order. Only what the
//! encoder needs; anything else (Fortran order, big-endian, pickles) is refused by name.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use super::EncoderError;

/// One array: its shape and its values, widened to `f32` (or kept as bytes).
#[derive(Debug, Clone)]
pub(super) struct Array {
    pub shape: Vec<usize>,
    pub data: Data,
}

#[derive(Debug, Clone)]
pub(super) enum Data {
    F32(Vec<f32>),
    U8(Vec<u8>),
}

/// Every array of the archive at `path`, by name (without `.npy`).
pub(super) fn read(path: &Path) -> Result<HashMap<String, Array>, EncoderError> {
    let bad = |reason: String| EncoderError::Weights {
        path: path.to_path_buf(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|source| EncoderError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|error| bad(format!("not a zip archive: {error}")))?;
    let mut arrays = HashMap::new();
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|error| bad(format!("entry {index}: {error}")))?;
        let name = entry
            .name()
            .map_err(|error| bad(format!("entry {index}: {error}")))?
            .into_owned();
        let Some(name) = name.strip_suffix(".npy").map(str::to_string) else {
            continue;
        };
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|error| bad(format!("{name}: {error}")))?;
        let array = parse_npy(bytes).map_err(|reason| bad(format!("{name}: {reason}")))?;
        arrays.insert(name, array);
    }
    Ok(arrays)
}

/// One `.npy` file: magic, version, a header dictionary, then the raw values (bytes stay in
/// the buffer they were read into: the embedding table is most of the encoder's memory).
fn parse_npy(mut bytes: Vec<u8>) -> Result<Array, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a .npy array".into());
    }
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        version => return Err(format!("unsupported .npy version {version}")),
    };
    let header = bytes
        .get(start..start + header_len)
        .and_then(|header| std::str::from_utf8(header).ok())
        .ok_or("truncated header")?;
    let descr = dict_value(header, "descr").ok_or("no descr")?;
    if dict_value(header, "fortran_order") != Some("False") {
        return Err("only C-order arrays are read".into());
    }
    let shape_text = dict_value(header, "shape").ok_or("no shape")?;
    let shape = shape_text
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<usize>()
                .map_err(|_| format!("bad shape {shape_text}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let body_start = start + header_len;
    let body = &bytes[body_start..];
    let count: usize = shape.iter().product();
    let data = match descr.trim_matches('\'') {
        "<f4" => Data::F32(
            exact(body, count * 4)?
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        ),
        "<f8" => Data::F32(
            exact(body, count * 8)?
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().unwrap_or_default()) as f32)
                .collect(),
        ),
        "|u1" => {
            exact(body, count)?;
            bytes.drain(..body_start);
            bytes.shrink_to_fit();
            Data::U8(bytes)
        }
        "|i1" => Data::F32(
            exact(body, count)?
                .iter()
                .map(|&b| b as i8 as f32)
                .collect(),
        ),
        other => return Err(format!("unsupported dtype {other}")),
    };
    Ok(Array { shape, data })
}

fn exact(body: &[u8], length: usize) -> Result<&[u8], String> {
    body.get(..length)
        .filter(|_| body.len() == length)
        .ok_or_else(|| format!("expected {length} bytes of values, found {}", body.len()))
}

/// The raw text of `key`'s value in a `.npy` header (a Python dict literal).
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let quoted = format!("'{key}':");
    let rest = header[header.find(&quoted)? + quoted.len()..].trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}'])?
    };
    Some(rest[..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(body);
        bytes
    }

    #[test]
    fn reads_the_dtypes_the_encoder_ships() {
        let floats: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let array = parse_npy(npy("<f4", "(1, 2)", &floats)).unwrap();
        assert_eq!(array.shape, [1, 2]);
        assert!(matches!(array.data, Data::F32(ref v) if v == &[1.5, -2.0]));
        let scalar = parse_npy(npy("<f8", "()", &1e-6f64.to_le_bytes())).unwrap();
        assert!(scalar.shape.is_empty());
        assert!(matches!(scalar.data, Data::F32(ref v) if v == &[1e-6f32]));
        let bytes = parse_npy(npy("|u1", "(3,)", &[0, 7, 255])).unwrap();
        assert!(matches!(bytes.data, Data::U8(ref v) if v == &[0, 7, 255]));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(parse_npy(b"PK\x03\x04".to_vec()).is_err());
        assert!(parse_npy(npy(">f4", "(1,)", &[0; 4])).is_err());
        assert!(
            parse_npy(npy("<f4", "(2,)", &[0; 4]))
                .unwrap_err()
                .contains("8 bytes")
        );
        let mut fortran = npy("<f4", "(1,)", &[0; 4]);
        let at = fortran.windows(5).position(|w| w == b"False").unwrap();
        fortran[at..at + 5].copy_from_slice(b"True ");
        assert!(parse_npy(fortran).unwrap_err().contains("C-order"));
    }
}

//! Reading Avro bytes by a plan into what `bus/avro_fast.py`'s compiled decoder returns (which is
//! fastavro's reader's value): dicts in field order, `UUID`, UTC `datetime`, `date`, `Decimal` of
//! the schema's scale, enum symbols as `str`; an error wherever it raises on malformed or
//! truncated bytes (not always of the same type: EOFError for a truncated float, say).

use std::collections::HashMap;

use pyo3::exceptions::{PyEOFError, PyIndexError, PyOverflowError, PyRecursionError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDate, PyDateTime, PyDict, PyInt, PyList, PyString, PyTzInfo};
use pyo3::{ffi, intern};

use crate::plan::{Node, Plan};
use crate::pyrefs::Refs;

const MAX_DEPTH: u32 = 200;
const MEMO_SIZE: usize = 4096; // decimals remembered per (precision, scale), as in Python
const EPOCH_ORDINAL: i128 = 719_163; // date(1970, 1, 1).toordinal()
const MAX_ORDINAL: i128 = 3_652_059; // date(9999, 12, 31).toordinal()
const DAY_US: i128 = 86_400_000_000;

pub struct Reader<'a, 'py> {
    pub plan: &'a Plan,
    pub refs: &'a Refs,
    pub py: Python<'py>,
    pub b: &'a [u8],
    pub p: usize,
}

fn truncated() -> PyErr {
    PyIndexError::new_err("index out of range")
}

/// Year, month, day of a count of days since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (yoe + era * 400 + (m <= 2) as i64, m, d)
}

impl<'a, 'py> Reader<'a, 'py> {
    fn byte(&mut self) -> PyResult<u8> {
        let c = *self.b.get(self.p).ok_or_else(truncated)?;
        self.p += 1;
        Ok(c)
    }

    /// A zigzag varint as Python reads it: at most 10 bytes, so up to 70 bits (not only i64).
    fn long(&mut self) -> PyResult<i128> {
        let first = self.byte()?;
        let mut n = (first & 0x7f) as u128;
        if first > 127 {
            let mut shift = 7;
            loop {
                let c = self.byte()?;
                n |= ((c & 0x7f) as u128) << shift;
                if c < 0x80 {
                    break;
                }
                shift += 7;
                if shift > 63 {
                    return Err(PyValueError::new_err("varint longer than 10 bytes"));
                }
            }
        }
        Ok((n >> 1) as i128 ^ -((n & 1) as i128))
    }

    fn raw(&mut self) -> PyResult<&'a [u8]> {
        let n = self.long()?;
        if n < 0 || self.p as i128 + n > self.b.len() as i128 {
            return Err(PyEOFError::new_err("truncated bytes"));
        }
        let b: &'a [u8] = self.b;
        let start = self.p;
        self.p += n as usize;
        Ok(&b[start..self.p])
    }

    fn text(&mut self) -> PyResult<Bound<'py, PyString>> {
        let py = self.py;
        let raw = self.raw()?;
        decode_utf8(py, raw)
    }

    pub fn record(&mut self, index: usize, depth: u32) -> PyResult<Bound<'py, PyAny>> {
        if depth > MAX_DEPTH {
            return Err(PyRecursionError::new_err("records nested too deeply"));
        }
        let py = self.py;
        let fields = &self.plan.records[index].fields;
        // sized for its fields up front: no resizing while they are added
        let dict = unsafe {
            Bound::from_owned_ptr_or_err(
                py,
                ffi::_PyDict_NewPresized(fields.len() as ffi::Py_ssize_t),
            )?
            .downcast_into_unchecked::<PyDict>()
        };
        for field in fields {
            let value = self.value(&field.node, depth)?;
            dict.set_item(field.name.bind(py), value)?;
        }
        Ok(dict.into_any())
    }

    fn count(&mut self) -> PyResult<i128> {
        // a block's count; a negative one is followed by the block's size in bytes (skipped)
        let n = self.long()?;
        if n < 0 {
            self.long()?;
            return Ok(-n);
        }
        Ok(n)
    }

    pub fn value(&mut self, node: &Node, depth: u32) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        Ok(match node {
            Node::Null => py.None().into_bound(py),
            Node::Boolean => pyo3::types::PyBool::new(py, self.byte()? != 0)
                .to_owned()
                .into_any(),
            Node::Int | Node::Long => {
                let n = self.long()?;
                match i64::try_from(n) {
                    Ok(n) => n.into_pyobject(py)?.into_any(),
                    Err(_) => n.into_pyobject(py)?.into_any(),
                }
            }
            Node::Float => {
                let raw = self
                    .b
                    .get(self.p..self.p + 4)
                    .ok_or_else(|| PyEOFError::new_err("truncated float"))?;
                self.p += 4;
                (f32::from_le_bytes(raw.try_into().expect("4 bytes")) as f64)
                    .into_pyobject(py)?
                    .into_any()
            }
            Node::Double => {
                let raw = self
                    .b
                    .get(self.p..self.p + 8)
                    .ok_or_else(|| PyEOFError::new_err("truncated double"))?;
                self.p += 8;
                f64::from_le_bytes(raw.try_into().expect("8 bytes"))
                    .into_pyobject(py)?
                    .into_any()
            }
            Node::String => self.text()?.into_any(),
            Node::Bytes => PyBytes::new(py, self.raw()?).into_any(),
            Node::Enum(plan) => {
                let i = self.long()?;
                if i < 0 {
                    return Err(PyIndexError::new_err("enum index"));
                }
                let symbol = plan
                    .symbols
                    .get(i as usize)
                    .ok_or_else(|| PyIndexError::new_err("tuple index out of range"))?;
                symbol.bind(py).clone().into_any()
            }
            Node::Record(index) => self.record(*index, depth + 1)?,
            Node::Array(items) => {
                let list = PyList::empty(py);
                let mut n = self.count()?;
                while n != 0 {
                    for _ in 0..n {
                        list.append(self.value(items, depth)?)?;
                    }
                    n = self.count()?;
                }
                list.into_any()
            }
            Node::Map(values) => {
                let dict = PyDict::new(py);
                let mut n = self.count()?;
                while n != 0 {
                    for _ in 0..n {
                        let key = self.text()?;
                        dict.set_item(key, self.value(values, depth)?)?;
                    }
                    n = self.count()?;
                }
                dict.into_any()
            }
            Node::Optional { null, value } => {
                let i = self.long()?;
                if i == *null as i128 {
                    py.None().into_bound(py)
                } else if i == 1 - *null as i128 {
                    self.value(value, depth)?
                } else {
                    return Err(PyIndexError::new_err("union index"));
                }
            }
            Node::Union(branches) => {
                let i = self.long()?;
                let branch = usize::try_from(i).ok().and_then(|i| branches.get(i));
                self.value(
                    branch.ok_or_else(|| PyIndexError::new_err("union index"))?,
                    depth,
                )?
            }
            Node::Uuid => self.uuid()?,
            Node::TimestampMillis => {
                let n = self.long()?;
                self.instant(n * 1000)?
            }
            Node::TimestampMicros => {
                let n = self.long()?;
                self.instant(n)?
            }
            Node::Date => {
                let n = self.long()?;
                if !(1..=MAX_ORDINAL).contains(&(n + EPOCH_ORDINAL)) {
                    return Err(PyValueError::new_err(format!(
                        "ordinal must be >= 1 and <= {MAX_ORDINAL}"
                    )));
                }
                let (y, m, d) = civil_from_days(n as i64);
                PyDate::new(py, y as i32, m, d)?.into_any()
            }
            Node::Decimal(index) => self.decimal(*index)?,
        })
    }

    /// `EPOCH + timedelta(microseconds=us)`: a UTC datetime, OverflowError outside years 1-9999.
    fn instant(&self, us: i128) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let days = us.div_euclid(DAY_US);
        if !(1..=MAX_ORDINAL).contains(&(days + EPOCH_ORDINAL)) {
            return Err(PyOverflowError::new_err("date value out of range"));
        }
        let rest = us.rem_euclid(DAY_US) as i64;
        let (y, m, d) = civil_from_days(days as i64);
        let seconds = rest / 1_000_000;
        let utc = self.refs.utc.bind(py).downcast::<PyTzInfo>()?;
        let dt = PyDateTime::new(
            py,
            y as i32,
            m,
            d,
            (seconds / 3600) as u8,
            (seconds / 60 % 60) as u8,
            (seconds % 60) as u8,
            (rest % 1_000_000) as u32,
            Some(utc),
        )?;
        Ok(dt.into_any())
    }

    /// `UUID(text)`: the canonical spelling built from its digits, any other through `UUID()`
    /// (which accepts braces, `urn:uuid:` and the like, and words its own errors).
    fn uuid(&mut self) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let raw = self.raw()?;
        if let Some(n) = canonical_uuid(raw) {
            let uuid = self.refs.uuid.bind(py);
            let object = unsafe {
                // object.__new__(UUID): UUID is a plain class with __slots__, no __new__ of its own
                let kind = uuid.as_ptr() as *mut ffi::PyTypeObject;
                let alloc = (*kind).tp_alloc.unwrap_or(ffi::PyType_GenericAlloc);
                Bound::from_owned_ptr_or_err(py, alloc(kind, 0))?
            };
            unsafe {
                // object.__setattr__, as UUID.__init__ does (its own __setattr__ refuses)
                let int = n.into_pyobject(py)?;
                if ffi::PyObject_GenericSetAttr(
                    object.as_ptr(),
                    intern!(py, "int").as_ptr(),
                    int.as_ptr(),
                ) < 0
                    || ffi::PyObject_GenericSetAttr(
                        object.as_ptr(),
                        intern!(py, "is_safe").as_ptr(),
                        self.refs.safe_unknown.as_ptr(),
                    ) < 0
                {
                    return Err(PyErr::fetch(py));
                }
            }
            return Ok(object);
        }
        let text = decode_utf8(py, raw)?;
        self.refs.uuid.bind(py).call1((text,))
    }

    fn decimal(&mut self, index: usize) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let plan = &self.plan.decimals[index];
        let raw = self.raw()?;
        if raw.len() <= 16 {
            let mut n: i128 = if raw.first().is_some_and(|&c| c >= 0x80) {
                -1
            } else {
                0
            };
            for &c in raw {
                n = (n << 8) | c as i128;
            }
            if -plan.limit < n && n < plan.limit {
                let memo = &self.refs.decimal_memos[index].decoded;
                if let Some(hit) = memo.lock().expect("memo").get(raw) {
                    return Ok(hit.bind(py).clone());
                }
                // the unscaled value with exponent -scale: the context does not round it (the lock
                // is not held while Python runs: another thread may decode meanwhile)
                let value = self
                    .refs
                    .decimal
                    .bind(py)
                    .call1((format!("{n}E-{}", plan.scale),))?;
                let mut memo = memo.lock().expect("memo");
                let full = if memo.len() >= MEMO_SIZE {
                    std::mem::take(&mut *memo)
                } else {
                    HashMap::new()
                };
                memo.insert(raw.to_vec(), value.clone().unbind());
                drop(memo);
                drop(full);
                return Ok(value);
            }
        }
        // more digits than the precision: Python's own arithmetic (the context rounds)
        let kwargs = PyDict::new(py);
        kwargs.set_item("signed", true)?;
        let n = py.get_type::<PyInt>().call_method(
            "from_bytes",
            (PyBytes::new(py, raw), "big"),
            Some(&kwargs),
        )?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("prec", plan.precision)?;
        let context = self.refs.context.bind(py).call((), Some(&kwargs))?;
        let value = context.call_method1("create_decimal", (n,))?;
        value.call_method1("scaleb", (-(plan.scale as i64), context))
    }
}

/// `bytes.decode()`: strict UTF-8, with its own UnicodeDecodeError.
fn decode_utf8<'py>(py: Python<'py>, raw: &[u8]) -> PyResult<Bound<'py, PyString>> {
    unsafe {
        let s = ffi::PyUnicode_DecodeUTF8(
            raw.as_ptr().cast(),
            raw.len() as ffi::Py_ssize_t,
            std::ptr::null(),
        );
        Ok(Bound::from_owned_ptr_or_err(py, s)?.downcast_into_unchecked())
    }
}

/// The value of `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex digits of either case), else None.
fn canonical_uuid(raw: &[u8]) -> Option<u128> {
    if raw.len() != 36 {
        return None;
    }
    let mut n: u128 = 0;
    for (i, &c) in raw.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        let digit = (c as char).to_digit(16)?;
        n = (n << 4) | digit as u128;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::{canonical_uuid, civil_from_days};
    use crate::instant::days_from_civil;

    #[test]
    fn civil_days_round_trip() {
        for (y, m, d) in [
            (1970, 1, 1),
            (1, 1, 1),
            (9999, 12, 31),
            (2000, 2, 29),
            (1969, 12, 31),
        ] {
            assert_eq!(
                civil_from_days(days_from_civil(y, m as i64, d as i64)),
                (y, m, d)
            );
        }
    }

    #[test]
    fn canonical_uuids() {
        assert_eq!(
            canonical_uuid(b"00000000-0000-0000-0000-0000000000fF"),
            Some(255)
        );
        assert_eq!(
            canonical_uuid(b"00000000-0000-0000-0000-0000000000fg"),
            None
        );
        assert_eq!(
            canonical_uuid(b"000000000-000-0000-0000-0000000000ff"),
            None
        );
    }
}

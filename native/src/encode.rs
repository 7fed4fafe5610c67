//! Writing a Python value by a plan, with `bus/avro_fast.py`'s compiled encoder's rules: the same
//! values accepted (exact types where it checks `type(x) is ...`), the same bytes, and an error
//! wherever it raises (then the caller writes the record with fastavro).

use pyo3::exceptions::{
    PyAttributeError, PyKeyError, PyOverflowError, PyRecursionError, PyTypeError,
};
use pyo3::prelude::*;
use pyo3::types::{
    PyBytes, PyDate, PyDateTime, PyDelta, PyDeltaAccess, PyDict, PyList, PyString, PyTuple,
};
use pyo3::types::{PyDateAccess, PyTimeAccess, PyTzInfoAccess};
use pyo3::{ffi, intern};

use crate::avro;
use crate::instant::days_from_civil;
use crate::plan::{Node, Plan};
use crate::pyrefs::Refs;

const MAX_DEPTH: u32 = 200; // records within records: beyond, the Python path decides
const MEMO_SIZE: usize = 4096; // decimals remembered per (precision, scale), as in Python

fn type_error(what: &str) -> PyErr {
    PyTypeError::new_err(what.to_owned())
}

pub struct Writer<'a, 'py> {
    pub plan: &'a Plan,
    pub refs: &'a Refs,
    pub py: Python<'py>,
    pub out: Vec<u8>,
}

impl<'py> Writer<'_, 'py> {
    /// The fields of a record value: a known model's `__dict__`, a dict itself, else what
    /// `_fields_of` says (it remembers a new model class or raises).
    fn fields(&self, v: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
        let py = self.py;
        let kind = v.get_type();
        let fields = if self.refs.models.bind(py).contains(&kind)? {
            v.getattr(intern!(py, "__dict__"))?
        } else if v.is_exact_instance_of::<PyDict>() {
            return Ok(unsafe { v.clone().downcast_into_unchecked() });
        } else {
            self.refs.fields_of.bind(py).call1((v,))?
        };
        Ok(fields.downcast_into::<PyDict>()?)
    }

    pub fn record(&mut self, index: usize, v: &Bound<'py, PyAny>, depth: u32) -> PyResult<()> {
        if depth > MAX_DEPTH {
            return Err(PyRecursionError::new_err("records nested too deeply"));
        }
        let py = self.py;
        let record = &self.plan.records[index];
        let d = self.fields(v)?;
        // A model's __dict__ holds its fields in the schema's order: walk it alongside the fields
        // while each key is the field's name (an exact str equal to it), else look names up.
        let mut position: ffi::Py_ssize_t = 0;
        let mut in_order = true;
        for field in &record.fields {
            let name = field.name.bind(py);
            let mut found = None;
            if in_order {
                let (mut key, mut item) = (std::ptr::null_mut(), std::ptr::null_mut());
                in_order =
                    unsafe { ffi::PyDict_Next(d.as_ptr(), &mut position, &mut key, &mut item) }
                        != 0
                        && (key == name.as_ptr()
                            || unsafe {
                                ffi::PyUnicode_CheckExact(key) != 0
                                    && ffi::PyUnicode_Compare(key, name.as_ptr()) == 0
                            });
                if in_order {
                    // a strong reference: the dict may change while the value is written
                    found = Some(unsafe { Bound::from_borrowed_ptr(py, item) });
                }
            }
            let x = match found {
                Some(x) => x,
                None => d
                    .get_item(name)?
                    .ok_or_else(|| PyKeyError::new_err(name.clone().unbind()))?,
            };
            self.value(&field.node, &x, depth)?;
        }
        Ok(())
    }

    fn string(&mut self, x: &Bound<'py, PyAny>, what: &str) -> PyResult<()> {
        // `x.encode()`: a str or a str subclass (StrEnum members); lone surrogates raise
        let s = x
            .downcast::<PyString>()
            .map_err(|_| PyAttributeError::new_err(format!("{what}: no encode()")))?;
        avro::string(&mut self.out, s.to_str()?);
        Ok(())
    }

    fn int(&mut self, x: &Bound<'py, PyAny>, low: i64, high: i64, what: &str) -> PyResult<()> {
        if unsafe { ffi::PyLong_CheckExact(x.as_ptr()) } == 0 {
            return Err(type_error(what));
        }
        let n: i64 = x.extract().map_err(|_| type_error(what))?;
        if !(low..=high).contains(&n) {
            return Err(type_error(what));
        }
        avro::long(&mut self.out, n);
        Ok(())
    }

    pub fn value(&mut self, node: &Node, x: &Bound<'py, PyAny>, depth: u32) -> PyResult<()> {
        let py = self.py;
        match node {
            Node::Null => {
                if !x.is_none() {
                    return Err(type_error("not null"));
                }
            }
            Node::Boolean => {
                let ptr = x.as_ptr();
                if ptr == unsafe { ffi::Py_True() } {
                    self.out.push(1);
                } else if ptr == unsafe { ffi::Py_False() } {
                    self.out.push(0);
                } else {
                    return Err(type_error("not a bool"));
                }
            }
            Node::Int => self.int(x, i32::MIN as i64, i32::MAX as i64, "int")?,
            Node::Long => self.int(x, i64::MIN, i64::MAX, "long")?,
            Node::Float | Node::Double => {
                if unsafe { ffi::PyFloat_CheckExact(x.as_ptr()) } == 0 {
                    return Err(type_error("float"));
                }
                let f = unsafe { ffi::PyFloat_AS_DOUBLE(x.as_ptr()) };
                if matches!(node, Node::Float) {
                    let y = f as f32; // struct's "<f": a C cast, then an overflow check
                    if y.is_infinite() && !f.is_infinite() {
                        return Err(PyOverflowError::new_err(
                            "float too large to pack with f format",
                        ));
                    }
                    self.out.extend_from_slice(&y.to_le_bytes());
                } else {
                    self.out.extend_from_slice(&f.to_le_bytes());
                }
            }
            Node::String => self.string(x, "string")?,
            Node::Bytes => {
                if unsafe { ffi::PyBytes_CheckExact(x.as_ptr()) } == 0 {
                    return Err(type_error("bytes"));
                }
                avro::bytes(
                    &mut self.out,
                    unsafe { x.downcast_unchecked::<PyBytes>() }.as_bytes(),
                );
            }
            Node::Enum(plan) => {
                // a symbol table looked up by the value: a str equal to a symbol (StrEnum members)
                let s = x
                    .downcast::<PyString>()
                    .map_err(|_| PyKeyError::new_err("enum symbol"))?;
                let i = *plan
                    .index
                    .get(s.to_str()?)
                    .ok_or_else(|| PyKeyError::new_err(s.clone().unbind()))?;
                avro::long(&mut self.out, i as i64);
            }
            Node::Record(index) => self.record(*index, x, depth + 1)?,
            Node::Array(items) => {
                let ptr = x.as_ptr();
                if unsafe { ffi::PyList_CheckExact(ptr) } != 0 {
                    let list = unsafe { x.downcast_unchecked::<PyList>() };
                    avro::block(&mut self.out, list.len());
                    for item in list.iter() {
                        self.value(items, &item, depth)?;
                    }
                } else if unsafe { ffi::PyTuple_CheckExact(ptr) } != 0 {
                    let tuple = unsafe { x.downcast_unchecked::<PyTuple>() };
                    avro::block(&mut self.out, tuple.len());
                    for item in tuple.iter() {
                        self.value(items, &item, depth)?;
                    }
                } else {
                    return Err(type_error("array"));
                }
                avro::end(&mut self.out);
            }
            Node::Map(values) => {
                if !x.is_exact_instance_of::<PyDict>() {
                    return Err(type_error("map"));
                }
                let dict = unsafe { x.downcast_unchecked::<PyDict>() };
                avro::block(&mut self.out, dict.len());
                for (key, item) in dict.iter() {
                    self.string(&key, "map key")?;
                    self.value(values, &item, depth)?;
                }
                avro::end(&mut self.out);
            }
            Node::Optional { null, value } => {
                if x.is_none() {
                    self.out.push(null * 2);
                } else {
                    self.out.push((1 - null) * 2);
                    self.value(value, x, depth)?;
                }
            }
            Node::Union(_) => return Err(type_error("union")), // not written (see plan.rs)
            Node::Uuid => {
                if x.get_type_ptr() == self.refs.uuid.as_ptr() as *mut ffi::PyTypeObject {
                    // str(UUID): its int as 32 hex digits in 8-4-4-4-12
                    let n: u128 = x.getattr(intern!(py, "int"))?.extract()?;
                    self.out.push(72); // the length, 36
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    for i in 0..32 {
                        if matches!(i, 8 | 12 | 16 | 20) {
                            self.out.push(b'-');
                        }
                        self.out.push(HEX[(n >> (124 - 4 * i)) as usize & 15]);
                    }
                } else {
                    self.string(x, "uuid")?;
                }
            }
            Node::TimestampMillis | Node::TimestampMicros => {
                let micros = self.micros(x)?;
                let n = if matches!(node, Node::TimestampMillis) {
                    micros.div_euclid(1000)
                } else {
                    micros
                };
                let n = i64::try_from(n).map_err(|_| PyOverflowError::new_err("timestamp"))?;
                avro::long(&mut self.out, n);
            }
            Node::Date => {
                if x.get_type_ptr() != self.refs.date.as_ptr() as *mut ffi::PyTypeObject {
                    return Err(type_error("date"));
                }
                let d = unsafe { x.downcast_unchecked::<PyDate>() };
                let days = days_from_civil(
                    d.get_year() as i64,
                    d.get_month() as i64,
                    d.get_day() as i64,
                );
                avro::long(&mut self.out, days);
            }
            Node::Decimal(index) => self.decimal(*index, x)?,
        }
        Ok(())
    }

    /// Microseconds since the epoch of a tz-aware `datetime` (exact type), as `dt - EPOCH`
    /// computes them: from the fields for UTC, through Python's subtraction for any other tzinfo.
    fn micros(&self, x: &Bound<'py, PyAny>) -> PyResult<i128> {
        let py = self.py;
        if x.get_type_ptr() != self.refs.datetime.as_ptr() as *mut ffi::PyTypeObject {
            return Err(type_error("timestamp"));
        }
        let dt = unsafe { x.downcast_unchecked::<PyDateTime>() };
        let Some(tz) = dt.get_tzinfo() else {
            return Err(type_error("timestamp"));
        };
        let (days, seconds, micros) = if tz.is(self.refs.utc.bind(py)) {
            let days = days_from_civil(
                dt.get_year() as i64,
                dt.get_month() as i64,
                dt.get_day() as i64,
            );
            let seconds =
                dt.get_hour() as i64 * 3600 + dt.get_minute() as i64 * 60 + dt.get_second() as i64;
            (days, seconds, dt.get_microsecond() as i64)
        } else {
            let delta = x.sub(self.refs.epoch.bind(py))?;
            let delta = delta.downcast::<PyDelta>()?;
            (
                delta.get_days() as i64,
                delta.get_seconds() as i64,
                delta.get_microseconds() as i64,
            )
        };
        Ok((days as i128 * 86_400 + seconds as i128) * 1_000_000 + micros as i128)
    }

    fn decimal(&mut self, index: usize, x: &Bound<'py, PyAny>) -> PyResult<()> {
        let py = self.py;
        let plan = &self.plan.decimals[index];
        if x.get_type_ptr() != self.refs.decimal.as_ptr() as *mut ffi::PyTypeObject {
            return Err(type_error("decimal"));
        }
        // The memo of encodings by value holds (the decimal written, its bytes): the very object
        // written before needs no other check; an equal one must have the scale's exponent
        // (same_quantum, as the Python encoder checks first), then has the same bytes.
        let memo = &self.refs.decimal_memos[index];
        let encoded = memo.encoded.bind(py);
        let hit = encoded.get_item(x)?;
        let hit = hit
            .as_ref()
            .map(|h| unsafe { h.downcast_unchecked::<PyTuple>() });
        if let Some(hit) = hit {
            if unsafe { ffi::PyTuple_GET_ITEM(hit.as_ptr(), 0) } == x.as_ptr() {
                self.extend_bytes(hit);
                return Ok(());
            }
        }
        let same = x.call_method1(intern!(py, "same_quantum"), (memo.quantum.bind(py),))?;
        if !same.is_truthy()? {
            return Err(type_error("decimal"));
        }
        if let Some(hit) = hit {
            self.extend_bytes(hit);
            return Ok(());
        }
        // str(Decimal) is exact: its digits and exponent give the unscaled value
        let text = x.str()?;
        let (n, exponent) = parse_decimal(text.to_str()?).ok_or_else(|| type_error("decimal"))?;
        if exponent != -(plan.scale as i64) {
            return Err(type_error("decimal"));
        }
        let n =
            n.ok_or_else(|| PyOverflowError::new_err("more digits than the schema's precision"))?;
        if !(-plan.limit < n && n < plan.limit) {
            return Err(PyOverflowError::new_err(
                "more digits than the schema's precision",
            ));
        }
        let start = self.out.len();
        avro::decimal(&mut self.out, n);
        if encoded.len() >= MEMO_SIZE {
            encoded.clear();
        }
        encoded.set_item(x, (x, PyBytes::new(py, &self.out[start..])))?;
        Ok(())
    }

    /// The bytes of a memo entry `(decimal, bytes)`.
    fn extend_bytes(&mut self, entry: &Bound<'py, PyTuple>) {
        let bytes = unsafe { ffi::PyTuple_GET_ITEM(entry.as_ptr(), 1) };
        let bytes = unsafe {
            Bound::from_borrowed_ptr(self.py, bytes).downcast_into_unchecked::<PyBytes>()
        };
        self.out.extend_from_slice(bytes.as_bytes());
    }
}

/// The unscaled value (None beyond i128) and the exponent of a finite `Decimal`'s `str()`
/// (`-12.340`, `1.2E-7`, `0E+3`); None for `NaN`, `Infinity` and the like.
pub fn parse_decimal(text: &str) -> Option<(Option<i128>, i64)> {
    let b = text.as_bytes();
    let (negative, b) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    let (mantissa, exp) = match b.iter().position(|&c| c == b'E') {
        Some(e) => (
            &b[..e],
            std::str::from_utf8(&b[e + 1..]).ok()?.parse::<i64>().ok()?,
        ),
        None => (b, 0),
    };
    let mut n: Option<i128> = Some(0);
    let mut places = 0i64;
    let mut seen_dot = false;
    let mut digits = 0;
    for &c in mantissa {
        match c {
            b'0'..=b'9' => {
                n = n
                    .and_then(|n| n.checked_mul(10))
                    .and_then(|n| n.checked_add((c - b'0') as i128));
                digits += 1;
                if seen_dot {
                    places += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return None,
        }
    }
    if digits == 0 {
        return None;
    }
    Some((if negative { n.map(|n| -n) } else { n }, exp - places))
}

#[cfg(test)]
mod tests {
    use super::parse_decimal;

    #[test]
    fn decimal_texts() {
        assert_eq!(parse_decimal("-12.340"), Some((Some(-12340), -3)));
        assert_eq!(parse_decimal("1.2E-7"), Some((Some(12), -8)));
        assert_eq!(parse_decimal("0E+3"), Some((Some(0), 3)));
        assert_eq!(parse_decimal("-0.0000"), Some((Some(0), -4)));
        assert_eq!(parse_decimal("NaN"), None);
        assert_eq!(parse_decimal("-Infinity"), None);
    }
}

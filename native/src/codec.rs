//! `AvroSchemaCodec`: the Avro codec of one record schema, planned once (`plan.rs`), writing
//! (`encode.rs`) and reading (`decode.rs`) exactly as `bus/avro_fast.py`'s compiled code does.

use pyo3::exceptions::{PyEOFError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PySet};

use crate::decode::Reader;
use crate::encode::Writer;
use crate::plan::{self, Plan};
use crate::pyrefs::Refs;

#[pyclass(frozen, module = "esb_native")]
pub struct AvroSchemaCodec {
    plan: Plan,
    refs: Refs,
}

#[pymethods]
impl AvroSchemaCodec {
    /// `schema`: a record schema as `fastavro.parse_schema` returns it; `named`: its
    /// `__named_schemas`; `models` and `fields_of`: how the encoder reads a record value (see
    /// `bus.avro_fast`). A ValueError when the schema uses what the plan does not cover.
    #[new]
    fn new(
        schema: &Bound<'_, PyAny>,
        named: &Bound<'_, PyDict>,
        models: Bound<'_, PySet>,
        fields_of: Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let plan = plan::build(schema, named)?;
        let refs = Refs::new(&plan, models, fields_of)?;
        Ok(Self { plan, refs })
    }

    /// True when the schema is also written (unions other than `["null", X]` are only read).
    #[getter]
    fn writes(&self) -> bool {
        self.plan.writes
    }

    /// Appends the Avro body of `value` to `out`; raises (leaving `out` as it was) on a value the
    /// Python compiled encoder refuses.
    fn encode(
        &self,
        py: Python<'_>,
        value: &Bound<'_, PyAny>,
        out: &Bound<'_, PyByteArray>,
    ) -> PyResult<()> {
        if !self.plan.writes {
            return Err(PyTypeError::new_err("a union this codec does not write"));
        }
        let mut writer = Writer {
            plan: &self.plan,
            refs: &self.refs,
            py,
            out: Vec::with_capacity(256),
        };
        writer.record(self.plan.root, value, 0)?;
        let start = out.len();
        out.resize(start + writer.out.len())?;
        unsafe { out.as_bytes_mut()[start..].copy_from_slice(&writer.out) };
        Ok(())
    }

    /// The record read from `data` at `offset`, as the Python compiled decoder returns it.
    fn decode<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyBytes>,
        offset: isize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let b = data.as_bytes();
        let p = usize::try_from(offset).map_err(|_| PyValueError::new_err("negative offset"))?;
        let mut reader = Reader {
            plan: &self.plan,
            refs: &self.refs,
            py,
            b,
            p,
        };
        let value = reader.record(self.plan.root, 0)?;
        if reader.p > b.len() {
            return Err(PyEOFError::new_err("truncated record"));
        }
        Ok(value)
    }
}

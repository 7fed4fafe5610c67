//! The Python objects the schema codec uses, looked up once per codec.

use std::collections::HashMap;
use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PySet, PyType};

use crate::plan::Plan;

/// The encodings and the values of one decimal (precision, scale) seen: amounts repeat within and
/// across records (`bus/avro_fast.py` memoizes them alike).
pub struct DecimalMemo {
    /// `Decimal(1).scaleb(-scale)`: a value is written only when of this exponent.
    pub quantum: Py<PyAny>,
    /// Decimal -> its encoding (bytes).
    pub encoded: Py<PyDict>,
    /// Encoding (the raw two's complement) -> the Decimal read.
    pub decoded: Mutex<HashMap<Vec<u8>, Py<PyAny>>>,
}

pub struct Refs {
    /// `bus.avro_fast._models`: the pydantic model classes read through `__dict__`.
    pub models: Py<PySet>,
    /// `bus.avro_fast._fields_of`: a new model's fields (remembering its class) or a TypeError.
    pub fields_of: Py<PyAny>,
    pub uuid: Py<PyType>,
    pub safe_unknown: Py<PyAny>,
    pub datetime: Py<PyType>,
    pub date: Py<PyType>,
    pub decimal: Py<PyType>,
    pub context: Py<PyType>,
    pub utc: Py<PyAny>,
    pub epoch: Py<PyAny>,
    pub decimal_memos: Vec<DecimalMemo>,
}

impl Refs {
    pub fn new(
        plan: &Plan,
        models: Bound<'_, PySet>,
        fields_of: Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let py = models.py();
        let uuid = py.import("uuid")?;
        let datetime = py.import("datetime")?;
        let decimal = py.import("decimal")?;
        let utc = datetime.getattr("UTC")?;
        let datetime_type = datetime.getattr("datetime")?.downcast_into::<PyType>()?;
        let epoch = datetime_type.call((1970, 1, 1, 0, 0, 0, 0, &utc), None)?;
        let uuid_type = uuid.getattr("UUID")?;
        let object_new = py
            .import("builtins")?
            .getattr("object")?
            .getattr("__new__")?;
        if !uuid_type.getattr("__new__")?.is(&object_new) {
            // decode.rs allocates a UUID as object.__new__(UUID) does
            return Err(pyo3::exceptions::PyValueError::new_err(
                "unsupported: a UUID class with its own __new__",
            ));
        }
        let decimal_type = decimal.getattr("Decimal")?;
        let mut decimal_memos = Vec::new();
        for d in &plan.decimals {
            decimal_memos.push(DecimalMemo {
                quantum: decimal_type
                    .call1((1,))?
                    .call_method1("scaleb", (-(d.scale as i64),))?
                    .unbind(),
                encoded: PyDict::new(py).unbind(),
                decoded: Mutex::new(HashMap::new()),
            });
        }
        Ok(Self {
            decimal_memos,
            models: models.unbind(),
            fields_of: fields_of.unbind(),
            uuid: uuid.getattr("UUID")?.downcast_into::<PyType>()?.unbind(),
            safe_unknown: uuid.getattr("SafeUUID")?.getattr("unknown")?.unbind(),
            datetime: datetime_type.unbind(),
            date: datetime
                .getattr("date")?
                .downcast_into::<PyType>()?
                .unbind(),
            decimal: decimal
                .getattr("Decimal")?
                .downcast_into::<PyType>()?
                .unbind(),
            context: decimal
                .getattr("Context")?
                .downcast_into::<PyType>()?
                .unbind(),
            utc: utc.unbind(),
            epoch: epoch.unbind(),
        })
    }
}

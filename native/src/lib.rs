//! `esb_native`: the translator's compiled fast path for Shopify order webhooks, and the bus's
//! schema-driven Avro codec (`codec::AvroSchemaCodec`, see README.md).
//!
//! `shopify_orders(body, system, account)` returns, per order, the canonical order id, the native
//! id, the four instants (microseconds since the epoch, UTC) and the Avro body of the canonical
//! `Order` — byte for byte what the Python adapter (`services/translator/adapters/shopify`) and the
//! bus's encoder produce — or None for any payload it does not reproduce exactly, which the Python
//! adapter then handles (rejections included). It never raises and never lets a panic out.

mod avro;
mod codec;
mod decode;
mod encode;
mod ids;
mod instant;
mod json;
mod money;
mod order;
mod plan;
mod pyrefs;
mod text;
mod wire;

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

/// The orders of a Shopify order webhook body, or None (decline).
#[pyfunction]
fn shopify_orders<'py>(
    py: Python<'py>,
    body: &Bound<'py, PyAny>,
    system: &Bound<'py, PyAny>,
    account: &Bound<'py, PyAny>,
) -> Option<Bound<'py, PyList>> {
    let body = body.downcast::<PyBytes>().ok()?.as_bytes();
    let system = system.downcast::<PyString>().ok()?.to_str().ok()?;
    let account = account.downcast::<PyString>().ok()?.to_str().ok()?;
    let orders = catch_unwind(AssertUnwindSafe(|| order::translate(body, system, account)))
        .ok()?
        .ok()?;
    let mut rows: Vec<Bound<'py, PyTuple>> = Vec::with_capacity(orders.len());
    for o in orders {
        let row = (
            o.order_id,
            o.native_id,
            o.placed_at,
            o.updated_at,
            o.cancelled_at,
            o.closed_at,
            PyBytes::new(py, &o.avro),
        )
            .into_pyobject(py)
            .ok()?;
        rows.push(row);
    }
    PyList::new(py, rows).ok()
}

#[pymodule]
fn esb_native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(shopify_orders, module)?)?;
    module.add_class::<codec::AvroSchemaCodec>()
}

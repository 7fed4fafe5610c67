//! A schema turned into a plan once: the tree of a fastavro-parsed Avro schema (the dicts of
//! `fastavro.parse_schema`, named types referred to by full name) as Rust values, for
//! `encode.rs` and `decode.rs`. It covers what `bus/avro_fast.py` compiles; anything else is an
//! error at construction, and the Python compiled codec (or fastavro) keeps the schema.

use std::collections::HashMap;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

pub enum Node {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    String,
    Bytes,
    Enum(Box<EnumPlan>),
    /// An index into `Plan::records` (a recursive record refers to itself this way).
    Record(usize),
    Array(Box<Node>),
    Map(Box<Node>),
    /// `["null", X]` or `[X, "null"]`: the branch chosen by `is None` when writing.
    Optional {
        null: u8,
        value: Box<Node>,
    },
    /// Any other union: read by its index; never written (the Python compiler refuses it too).
    Union(Vec<Node>),
    Uuid,
    TimestampMillis,
    TimestampMicros,
    Date,
    /// An index into `Plan::decimals`.
    Decimal(usize),
}

pub struct EnumPlan {
    pub symbols: Vec<Py<PyString>>,
    pub index: HashMap<String, usize>,
}

pub struct Field {
    pub name: Py<PyString>,
    pub node: Node,
}

pub struct Record {
    pub fields: Vec<Field>,
}

pub struct DecimalPlan {
    pub precision: u32,
    pub scale: u32,
    /// 10**precision: fastavro refuses an unscaled value of more digits.
    pub limit: i128,
}

pub struct Plan {
    pub root: usize,
    pub records: Vec<Record>,
    pub decimals: Vec<DecimalPlan>,
    /// False when a union other than `["null", X]` occurs: such a schema is only read.
    pub writes: bool,
}

struct Builder<'a, 'py> {
    named: &'a Bound<'py, PyDict>,
    records: Vec<Option<Record>>,
    by_name: HashMap<String, usize>,
    decimals: Vec<DecimalPlan>,
    writes: bool,
}

fn unsupported(what: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("unsupported Avro schema: {what}"))
}

fn text(dict: &Bound<'_, PyDict>, key: &str) -> PyResult<Option<String>> {
    match dict.get_item(key)? {
        None => Ok(None),
        Some(v) => Ok(Some(v.downcast::<PyString>()?.to_str()?.to_owned())),
    }
}

impl<'py> Builder<'_, 'py> {
    fn node(&mut self, schema: &Bound<'py, PyAny>, depth: u32) -> PyResult<Node> {
        if depth > 64 {
            return Err(unsupported("nesting deeper than 64"));
        }
        if let Ok(name) = schema.downcast::<PyString>() {
            let name = name.to_str()?;
            if let Some(named) = self.named.get_item(name)? {
                return self.node(&named, depth + 1);
            }
            return match name {
                "null" => Ok(Node::Null),
                "boolean" => Ok(Node::Boolean),
                "int" => Ok(Node::Int),
                "long" => Ok(Node::Long),
                "float" => Ok(Node::Float),
                "double" => Ok(Node::Double),
                "string" => Ok(Node::String),
                "bytes" => Ok(Node::Bytes),
                other => Err(unsupported(format!("type {other}"))),
            };
        }
        if let Ok(branches) = schema.downcast::<PyList>() {
            return self.union(branches, depth);
        }
        let dict = schema.downcast::<PyDict>()?;
        let kind = text(dict, "type")?.ok_or_else(|| unsupported("no type"))?;
        if let Some(logical) = dict.get_item("logicalType")? {
            let logical = logical.downcast::<PyString>()?.to_str()?.to_owned();
            return self.logical(dict, &kind, &logical);
        }
        match kind.as_str() {
            "record" => self.record(dict, depth),
            "enum" => {
                let mut symbols = Vec::new();
                let mut index = HashMap::new();
                for (i, symbol) in dict
                    .get_item("symbols")?
                    .ok_or_else(|| unsupported("enum"))?
                    .try_iter()?
                    .enumerate()
                {
                    let symbol = symbol?.downcast_into::<PyString>()?;
                    index.insert(symbol.to_str()?.to_owned(), i);
                    symbols.push(symbol.unbind());
                }
                Ok(Node::Enum(Box::new(EnumPlan { symbols, index })))
            }
            "array" => {
                let items = dict
                    .get_item("items")?
                    .ok_or_else(|| unsupported("array"))?;
                Ok(Node::Array(Box::new(self.node(&items, depth + 1)?)))
            }
            "map" => {
                let values = dict.get_item("values")?.ok_or_else(|| unsupported("map"))?;
                Ok(Node::Map(Box::new(self.node(&values, depth + 1)?)))
            }
            // `{"type": "string"}` and the like: the primitive itself (a named type is not
            // looked up here, as in the Python compiler).
            "null" | "boolean" | "int" | "long" | "float" | "double" | "string" | "bytes" => {
                self.node(PyString::new(schema.py(), &kind).as_any(), depth + 1)
            }
            other => Err(unsupported(format!("type {other}"))),
        }
    }

    fn record(&mut self, dict: &Bound<'py, PyDict>, depth: u32) -> PyResult<Node> {
        let name = text(dict, "name")?.ok_or_else(|| unsupported("a record without a name"))?;
        if let Some(&index) = self.by_name.get(&name) {
            return Ok(Node::Record(index));
        }
        let index = self.records.len();
        self.records.push(None); // reserved first: a recursive record refers to itself
        self.by_name.insert(name, index);
        let py = dict.py();
        let mut fields = Vec::new();
        for field in dict
            .get_item("fields")?
            .ok_or_else(|| unsupported("fields"))?
            .try_iter()?
        {
            let field = field?;
            let field = field.downcast::<PyDict>()?;
            let name = text(field, "name")?.ok_or_else(|| unsupported("a field without a name"))?;
            let kind = field
                .get_item("type")?
                .ok_or_else(|| unsupported("a field without a type"))?;
            let node = self.node(&kind, depth + 1)?;
            fields.push(Field {
                name: PyString::intern(py, &name).unbind(),
                node,
            });
        }
        self.records[index] = Some(Record { fields });
        Ok(Node::Record(index))
    }

    fn union(&mut self, branches: &Bound<'py, PyList>, depth: u32) -> PyResult<Node> {
        let mut nodes = Vec::new();
        for branch in branches.iter() {
            nodes.push(self.node(&branch, depth + 1)?);
        }
        let nulls: Vec<usize> = (0..nodes.len())
            .filter(|&i| matches!(nodes[i], Node::Null))
            .collect();
        if nodes.len() == 2 && nulls.len() == 1 {
            let null = nulls[0];
            let value = nodes.remove(1 - null);
            return Ok(Node::Optional {
                null: null as u8,
                value: Box::new(value),
            });
        }
        self.writes = false; // fastavro chooses the branch by validation: the writer keeps its choice
        Ok(Node::Union(nodes))
    }

    fn logical(&mut self, dict: &Bound<'py, PyDict>, kind: &str, logical: &str) -> PyResult<Node> {
        match (kind, logical) {
            ("string", "uuid") => Ok(Node::Uuid),
            ("long", "timestamp-millis") => Ok(Node::TimestampMillis),
            ("long", "timestamp-micros") => Ok(Node::TimestampMicros),
            ("int", "date") => Ok(Node::Date),
            ("bytes", "decimal") => {
                let precision: i64 = dict
                    .get_item("precision")?
                    .ok_or_else(|| unsupported("precision"))?
                    .extract()?;
                let scale: i64 = match dict.get_item("scale")? {
                    Some(s) => s.extract()?,
                    None => 0,
                };
                // i128 holds 38 digits; both at most that, so the unscaled value and 10**scale fit
                if !(1..=38).contains(&precision) || !(0..=38).contains(&scale) {
                    return Err(unsupported(format!("decimal({precision}, {scale})")));
                }
                let (precision, scale) = (precision as u32, scale as u32);
                let index = match self
                    .decimals
                    .iter()
                    .position(|d| d.precision == precision && d.scale == scale)
                {
                    Some(i) => i,
                    None => {
                        self.decimals.push(DecimalPlan {
                            precision,
                            scale,
                            limit: 10i128.pow(precision),
                        });
                        self.decimals.len() - 1
                    }
                };
                Ok(Node::Decimal(index))
            }
            _ => Err(unsupported(format!("logical type {logical} on {kind}"))),
        }
    }
}

/// The plan of a fastavro-parsed record schema (`named`: its `__named_schemas`).
pub fn build(schema: &Bound<'_, PyAny>, named: &Bound<'_, PyDict>) -> PyResult<Plan> {
    let dict = schema.downcast::<PyDict>()?;
    if text(dict, "type")?.as_deref() != Some("record") {
        return Err(unsupported("only a record schema is compiled"));
    }
    let mut builder = Builder {
        named,
        records: Vec::new(),
        by_name: HashMap::new(),
        decimals: Vec::new(),
        writes: true,
    };
    let Node::Record(root) = builder.record(dict, 0)? else {
        unreachable!()
    };
    let records = builder
        .records
        .into_iter()
        .map(|r| r.expect("every record is built"))
        .collect();
    Ok(Plan {
        root,
        records,
        decimals: builder.decimals,
        writes: builder.writes,
    })
}

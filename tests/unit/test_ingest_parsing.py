from __future__ import annotations

from pathlib import Path

import pytest

from services.gateway.ingest.csv_feed import CsvError, chunk_csv
from services.gateway.ingest.records import records_for_file
from services.gateway.ingest.x12 import X12Error, split_interchange
from tests.gateway_support import CONFORMANCE

pytestmark = pytest.mark.unit

EDI = CONFORMANCE / "edi_x12"
EXPECTED = {
    "850_vics_4010_nodex12.edi": "850",
    "856_asn_4060_nodex12.edi": "856",
    "940_4010UCS_warehouse_shipping_order_a.edi": "940",
    "945_4010_warehouse_shipping_advice.edi": "945",
}


@pytest.mark.parametrize(("name", "set_id"), EXPECTED.items())
def test_each_conformance_interchange_yields_its_transaction_set_verbatim(name: str, set_id: str) -> None:
    data = (EDI / name).read_bytes()
    (tx,) = split_interchange(data)
    assert tx.set_id == set_id
    assert tx.raw.startswith(b"ST*" + set_id.encode())
    assert tx.raw.endswith(b"~")
    assert tx.raw.split(b"~")[-2].lstrip().startswith(b"SE*")
    assert tx.raw in data  # a contiguous slice, not a re-serialisation
    assert tx.isa.startswith(b"ISA")
    assert tx.gs.startswith(b"GS")


def test_collapsed_isa_padding_and_odd_component_separator() -> None:
    tx945 = split_interchange((EDI / "945_4010_warehouse_shipping_advice.edi").read_bytes())[0]
    assert tx945.delimiters.component == b">"
    assert tx945.event_id == "YOUR-ID-HERE:043000123:000000123:000006123"
    tx940 = split_interchange((EDI / "940_4010UCS_warehouse_shipping_order_a.edi").read_bytes())[0]
    assert tx940.delimiters.component == b"\\"


def test_two_groups_two_sets_each_split_in_order() -> None:
    data = (EDI / "940_4010UCS_warehouse_shipping_order_a.edi").read_bytes()
    head, _, rest = data.partition(b"ST*940")
    body = b"ST*940" + rest[: rest.index(b"GE*")]
    second = body.replace(b"ST*940*0001", b"ST*940*0002").replace(b"*0001~", b"*0002~")
    doubled = head + body + second + b"GE*2*3317~\nIEA*1*000003438~\n"
    sets = split_interchange(doubled)
    assert [tx.control_number for tx in sets] == ["0001", "0002"]
    assert len({tx.event_id for tx in sets}) == 2


@pytest.mark.parametrize(
    "broken",
    [b"not x12", b"ISA*00*short~", b"ISA*00*1*2*3*4*5*6*7*8*9*10*11*12*13*14*>~GS*X~ST*850*1~BEG*00~"],
)
def test_malformed_interchanges_are_rejected(broken: bytes) -> None:
    with pytest.raises(X12Error):
        split_interchange(broken)


def test_csv_small_feed_is_one_identical_record_and_large_feed_is_row_aligned() -> None:
    feed = b'sku,location,on_hand\nA-1,WH1,5\n"B,2","WH\n1",7\nC-3,WH2,9\n'
    assert chunk_csv(feed, 10_000) == [feed]
    chunks = chunk_csv(feed, 40)
    assert all(chunk.startswith(b"sku,location,on_hand\n") for chunk in chunks)
    assert b"".join(c.removeprefix(b"sku,location,on_hand\n") for c in chunks) == feed.split(b"\n", 1)[1]
    assert b'"B,2","WH\n1",7\n' in b"".join(chunks)
    with pytest.raises(CsvError):
        chunk_csv(feed, 25)


def test_records_for_files_name_topics_headers_and_redact(tmp_path: Path) -> None:
    csv = b"sku,qty,note\nA,1,paid with 4111 1111 1111 1111\n"
    (record,) = records_for_file(
        tmp_path / "f.csv",
        csv,
        system="acme-wms",
        entity="stock",
        prefix="p.",
        received_at=0,
        max_bytes=10_000,
    )
    headers = dict(record.headers)
    assert record.topic == "p.ingress.acme-wms.stock"
    assert b"4111 1111" not in record.value
    assert headers["esb-redactions"] == b"1"
    data = (EDI / "940_4010UCS_warehouse_shipping_order_a.edi").read_bytes()
    (edi,) = records_for_file(
        tmp_path / "o.edi", data, system="edi", entity="stock", prefix="", received_at=0, max_bytes=10_000
    )
    assert edi.topic == "ingress.edi.940"
    assert dict(edi.headers)["x12-component-separator"] == b"\\"

"""Records and enum variants behave as values: they compare equal field by field (and unequal
to anything of another class, without raising), hash by their fields so they can be set
members and dict keys, and print their fields."""

import mendian


def worker(**changes):
    fields = dict(name="张三", address=mendian.AddressDto(address_detail="22", address_names=["222", "333"]),
                  service_areas=[mendian.DivisionDto(division_names=["-"])])
    fields.update(changes)
    return mendian.WorkerDto(**fields)


def test_records_compare_and_hash_by_their_fields():
    a, b = worker(), worker()
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert {a: 1}[b] == 1
    c = worker(address=mendian.AddressDto(address_detail="22", address_names=["222"]))
    assert a != c and len({a, c}) == 2
    # Another class, or None, is simply not equal.
    assert a != None and a != "WorkerDto" and a != mendian.AddressDto(address_detail="22", address_names=["222"])  # noqa: E711
    assert mendian.GetStoreListRequest(offset=0, limit=1) == mendian.GetStoreListRequest(offset=0, limit=1)
    assert mendian.GetStoreListRequest(offset=0, limit=1) != mendian.GetStoreListRequest(offset=0, limit=2)


def test_enum_variants_compare_hash_and_print_their_value():
    approved = mendian.StoreAuditStatus.APPROVED()
    assert approved == mendian.StoreAuditStatus.APPROVED() and hash(approved) == hash(mendian.StoreAuditStatus.APPROVED())
    assert approved != mendian.StoreAuditStatus.REJECTED() and approved != None  # noqa: E711
    unknown = mendian.StoreAuditStatus.UNKNOWN(9)
    assert unknown == mendian.StoreAuditStatus.UNKNOWN(9) and unknown != mendian.StoreAuditStatus.UNKNOWN(8)
    assert len({unknown, mendian.StoreAuditStatus.UNKNOWN(9), approved}) == 2
    assert repr(unknown) == "StoreAuditStatus.UNKNOWN(value=9)"
    assert repr(approved) == "StoreAuditStatus.APPROVED()"


def test_a_record_in_a_record_prints_its_fields():
    assert repr(worker().address) == "AddressDto(address_detail='22', address_names=['222', '333'])"
    assert "service_areas=[DivisionDto(division_names=['-'])]" in repr(worker())

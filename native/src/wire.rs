//! The part of a Shopify order the adapter reads (`adapters/shopify/_wire.py`), read from JSON.
//!
//! Keys are matched after unescaping; other keys are skipped. A key read here that occurs twice
//! in one object declines (Python keeps the last). A declared object or array holding another
//! kind of value is [`Typed::Bad`]: the mapping declines where the adapter would read it.
//! Read with [`Reader`]'s callbacks rather than derived serde structs: `json`'s module comment
//! says why.

use std::borrow::Cow;

use crate::json::{Decline, Reader, Scalar, R};
use crate::money::{code, plain_amount, Money};

/// A declared object or array: null, the value, or another kind of value.
#[derive(Debug)]
pub enum Typed<T> {
    Null,
    Val(T),
    Bad,
}

/// A key of a declared record: absent, or what it holds.
pub type Slot<T> = Option<T>;

pub type Field<'a> = Slot<Scalar<'a>>;

fn put<T>(slot: &mut Slot<T>, value: T) -> R<()> {
    if slot.is_some() {
        return Err(Decline); // a duplicate key
    }
    *slot = Some(value);
    Ok(())
}

fn scalar<'a>(r: &mut Reader<'a>, slot: &mut Field<'a>) -> R<()> {
    let value = r.scalar()?;
    put(slot, value)
}

fn typed<'a, T>(
    r: &mut Reader<'a>,
    slot: &mut Slot<Typed<T>>,
    parse: impl FnOnce(&mut Reader<'a>) -> R<T>,
) -> R<()> {
    let value = match r.peek() {
        Some(b'{') => Typed::Val(parse(r)?),
        _ if r.null()? => Typed::Null,
        _ => {
            r.skip()?;
            Typed::Bad
        }
    };
    put(slot, value)
}

fn list<'a, T>(
    r: &mut Reader<'a>,
    slot: &mut Slot<Typed<Vec<T>>>,
    mut parse: impl FnMut(&mut Reader<'a>) -> R<T>,
) -> R<()> {
    let value = match r.peek() {
        Some(b'[') => {
            let mut items = Vec::with_capacity(4);
            let mut bad = false;
            r.array(|r| {
                if r.peek() == Some(b'{') {
                    items.push(parse(r)?);
                } else {
                    r.skip()?;
                    bad = true;
                }
                Ok(())
            })?;
            if bad {
                Typed::Bad
            } else {
                Typed::Val(items)
            }
        }
        _ if r.null()? => Typed::Null,
        _ => {
            r.skip()?;
            Typed::Bad
        }
    };
    put(slot, value)
}

/// An entry of a `*_set` twin (`shop_money`, `presentment_money`).
#[derive(Debug)]
pub enum SetMoney {
    /// `{"amount": <plain amount>, "currency_code": "[A-Z]{3}"}` (`_plain._plain_set`).
    Plain(Money),
    /// Any other value: the adapter's slower rules, declined here.
    Other,
}

fn set_money(r: &mut Reader<'_>) -> R<SetMoney> {
    if r.peek() != Some(b'{') {
        r.skip()?;
        return Ok(SetMoney::Other);
    }
    let (mut amount, mut currency): (Field, Field) = (None, None);
    r.object(|r, key| match &*key {
        "amount" => scalar(r, &mut amount),
        "currency_code" => scalar(r, &mut currency),
        _ => r.skip(),
    })?;
    Ok(match (amount, currency) {
        (Some(Scalar::Str(a)), Some(Scalar::Str(c))) => match (plain_amount(&a), code(&c)) {
            (Some(units), Some(code)) => SetMoney::Plain(Money { units, code }),
            _ => SetMoney::Other,
        },
        _ => SetMoney::Other,
    })
}

/// `_MoneySet`: each entry absent (outer None), null (inner None) or a value.
#[derive(Debug, Default)]
pub struct MoneySet {
    pub shop_money: Slot<Option<SetMoney>>,
    pub presentment_money: Slot<Option<SetMoney>>,
}

impl MoneySet {
    /// `set.get("shop_money")`: absent and null are both None.
    pub fn shop(&self) -> Option<&SetMoney> {
        self.shop_money.as_ref().and_then(Option::as_ref)
    }

    pub fn presentment(&self) -> Option<&SetMoney> {
        self.presentment_money.as_ref().and_then(Option::as_ref)
    }
}

fn set_entry(r: &mut Reader<'_>, slot: &mut Slot<Option<SetMoney>>) -> R<()> {
    let value = if r.null()? { None } else { Some(set_money(r)?) };
    put(slot, value)
}

fn money_set(r: &mut Reader<'_>) -> R<MoneySet> {
    let mut set = MoneySet::default();
    r.object(|r, key| match &*key {
        "shop_money" => set_entry(r, &mut set.shop_money),
        "presentment_money" => set_entry(r, &mut set.presentment_money),
        _ => r.skip(),
    })?;
    Ok(set)
}

#[derive(Debug, Default)]
pub struct Pair<'a> {
    pub name: Field<'a>,
    pub value: Field<'a>,
}

fn pair<'a>(r: &mut Reader<'a>) -> R<Pair<'a>> {
    let mut x = Pair::default();
    r.object(|r, key| match &*key {
        "name" => scalar(r, &mut x.name),
        "value" => scalar(r, &mut x.value),
        _ => r.skip(),
    })?;
    Ok(x)
}

#[derive(Debug, Default)]
pub struct Allocation<'a> {
    pub amount: Field<'a>,
    pub amount_set: Slot<Typed<MoneySet>>,
    pub discount_application_index: Field<'a>,
}

fn allocation<'a>(r: &mut Reader<'a>) -> R<Allocation<'a>> {
    let mut x = Allocation::default();
    r.object(|r, key| match &*key {
        "amount" => scalar(r, &mut x.amount),
        "amount_set" => typed(r, &mut x.amount_set, money_set),
        "discount_application_index" => scalar(r, &mut x.discount_application_index),
        _ => r.skip(),
    })?;
    Ok(x)
}

#[derive(Debug, Default)]
pub struct TaxLine<'a> {
    pub title: Field<'a>,
    pub rate: Field<'a>,
    pub price: Field<'a>,
    pub price_set: Slot<Typed<MoneySet>>,
}

fn tax_line<'a>(r: &mut Reader<'a>) -> R<TaxLine<'a>> {
    let mut x = TaxLine::default();
    r.object(|r, key| match &*key {
        "title" => scalar(r, &mut x.title),
        "rate" => scalar(r, &mut x.rate),
        "price" => scalar(r, &mut x.price),
        "price_set" => typed(r, &mut x.price_set, money_set),
        _ => r.skip(),
    })?;
    Ok(x)
}

#[derive(Debug, Default)]
pub struct LineItem<'a> {
    pub id: Field<'a>,
    pub quantity: Field<'a>,
    pub price: Field<'a>,
    pub price_set: Slot<Typed<MoneySet>>,
    pub discount_allocations: Slot<Typed<Vec<Allocation<'a>>>>,
    pub tax_lines: Slot<Typed<Vec<TaxLine<'a>>>>,
    pub sku: Field<'a>,
    pub product_id: Field<'a>,
    pub variant_id: Field<'a>,
    pub title: Field<'a>,
    pub name: Field<'a>,
    pub variant_title: Field<'a>,
    pub requires_shipping: Field<'a>,
    pub fulfillable_quantity: Field<'a>,
    pub properties: Slot<Typed<Vec<Pair<'a>>>>,
}

fn line_item<'a>(r: &mut Reader<'a>) -> R<LineItem<'a>> {
    let mut x = LineItem::default();
    r.object(|r, key| match &*key {
        "id" => scalar(r, &mut x.id),
        "quantity" => scalar(r, &mut x.quantity),
        "price" => scalar(r, &mut x.price),
        "price_set" => typed(r, &mut x.price_set, money_set),
        "discount_allocations" => list(r, &mut x.discount_allocations, allocation),
        "tax_lines" => list(r, &mut x.tax_lines, tax_line),
        "sku" => scalar(r, &mut x.sku),
        "product_id" => scalar(r, &mut x.product_id),
        "variant_id" => scalar(r, &mut x.variant_id),
        "title" => scalar(r, &mut x.title),
        "name" => scalar(r, &mut x.name),
        "variant_title" => scalar(r, &mut x.variant_title),
        "requires_shipping" => scalar(r, &mut x.requires_shipping),
        "fulfillable_quantity" => scalar(r, &mut x.fulfillable_quantity),
        "properties" => list(r, &mut x.properties, pair),
        _ => r.skip(),
    })?;
    Ok(x)
}

#[derive(Debug, Default)]
pub struct ShippingLine<'a> {
    pub id: Field<'a>,
    pub code: Field<'a>,
    pub title: Field<'a>,
    pub carrier_identifier: Field<'a>,
    pub source: Field<'a>,
    pub price: Field<'a>,
    pub price_set: Slot<Typed<MoneySet>>,
    pub discounted_price: Field<'a>,
    pub discounted_price_set: Slot<Typed<MoneySet>>,
    pub discount_allocations: Slot<Typed<Vec<Allocation<'a>>>>,
    pub tax_lines: Slot<Typed<Vec<TaxLine<'a>>>>,
}

fn shipping_line<'a>(r: &mut Reader<'a>) -> R<ShippingLine<'a>> {
    let mut x = ShippingLine::default();
    r.object(|r, key| match &*key {
        "id" => scalar(r, &mut x.id),
        "code" => scalar(r, &mut x.code),
        "title" => scalar(r, &mut x.title),
        "carrier_identifier" => scalar(r, &mut x.carrier_identifier),
        "source" => scalar(r, &mut x.source),
        "price" => scalar(r, &mut x.price),
        "price_set" => typed(r, &mut x.price_set, money_set),
        "discounted_price" => scalar(r, &mut x.discounted_price),
        "discounted_price_set" => typed(r, &mut x.discounted_price_set, money_set),
        "discount_allocations" => list(r, &mut x.discount_allocations, allocation),
        "tax_lines" => list(r, &mut x.tax_lines, tax_line),
        _ => r.skip(),
    })?;
    Ok(x)
}

#[derive(Debug, Default)]
pub struct DiscountApplication<'a> {
    pub code: Field<'a>,
    pub title: Field<'a>,
    pub description: Field<'a>,
    pub kind: Field<'a>,
    pub target_type: Field<'a>,
}

fn discount_application<'a>(r: &mut Reader<'a>) -> R<DiscountApplication<'a>> {
    let mut x = DiscountApplication::default();
    r.object(|r, key| match &*key {
        "code" => scalar(r, &mut x.code),
        "title" => scalar(r, &mut x.title),
        "description" => scalar(r, &mut x.description),
        "type" => scalar(r, &mut x.kind),
        "target_type" => scalar(r, &mut x.target_type),
        _ => r.skip(),
    })?;
    Ok(x)
}

#[derive(Debug, Default)]
pub struct DiscountCode<'a> {
    pub code: Field<'a>,
    pub amount: Field<'a>,
    pub amount_set: Slot<Typed<MoneySet>>,
}

fn discount_code<'a>(r: &mut Reader<'a>) -> R<DiscountCode<'a>> {
    let mut x = DiscountCode::default();
    r.object(|r, key| match &*key {
        "code" => scalar(r, &mut x.code),
        "amount" => scalar(r, &mut x.amount),
        "amount_set" => typed(r, &mut x.amount_set, money_set),
        _ => r.skip(),
    })?;
    Ok(x)
}

#[derive(Debug, Default)]
pub struct Customer<'a> {
    pub id: Field<'a>,
    pub email: Field<'a>,
    pub phone: Field<'a>,
    pub first_name: Field<'a>,
    pub last_name: Field<'a>,
}

fn customer<'a>(r: &mut Reader<'a>) -> R<Customer<'a>> {
    let mut x = Customer::default();
    r.object(|r, key| match &*key {
        "id" => scalar(r, &mut x.id),
        "email" => scalar(r, &mut x.email),
        "phone" => scalar(r, &mut x.phone),
        "first_name" => scalar(r, &mut x.first_name),
        "last_name" => scalar(r, &mut x.last_name),
        _ => r.skip(),
    })?;
    Ok(x)
}

#[derive(Debug, Default)]
pub struct Transaction<'a> {
    pub kind: Field<'a>,
    pub status: Field<'a>,
    pub currency: Field<'a>,
    pub amount: Field<'a>,
    pub amount_set: Slot<Typed<MoneySet>>,
}

fn transaction<'a>(r: &mut Reader<'a>) -> R<Transaction<'a>> {
    let mut x = Transaction::default();
    r.object(|r, key| match &*key {
        "kind" => scalar(r, &mut x.kind),
        "status" => scalar(r, &mut x.status),
        "currency" => scalar(r, &mut x.currency),
        "amount" => scalar(r, &mut x.amount),
        "amount_set" => typed(r, &mut x.amount_set, money_set),
        _ => r.skip(),
    })?;
    Ok(x)
}

#[derive(Debug, Default)]
pub struct Refund<'a> {
    pub transactions: Slot<Typed<Vec<Transaction<'a>>>>,
}

fn refund<'a>(r: &mut Reader<'a>) -> R<Refund<'a>> {
    let mut x = Refund::default();
    r.object(|r, key| match &*key {
        "transactions" => list(r, &mut x.transactions, transaction),
        _ => r.skip(),
    })?;
    Ok(x)
}

/// An address object, whole (the adapter treats one without keys as no address).
#[derive(Debug, Default)]
pub struct Address<'a> {
    pub has_keys: bool,
    pub name: Field<'a>,
    pub first_name: Field<'a>,
    pub last_name: Field<'a>,
    pub company: Field<'a>,
    pub address1: Field<'a>,
    pub address2: Field<'a>,
    pub city: Field<'a>,
    pub province: Field<'a>,
    pub province_code: Field<'a>,
    pub zip: Field<'a>,
    pub country_code: Field<'a>,
    pub phone: Field<'a>,
}

fn address<'a>(r: &mut Reader<'a>) -> R<Address<'a>> {
    let mut x = Address::default();
    x.has_keys = r.object(|r, key| match &*key {
        "name" => scalar(r, &mut x.name),
        "first_name" => scalar(r, &mut x.first_name),
        "last_name" => scalar(r, &mut x.last_name),
        "company" => scalar(r, &mut x.company),
        "address1" => scalar(r, &mut x.address1),
        "address2" => scalar(r, &mut x.address2),
        "city" => scalar(r, &mut x.city),
        "province" => scalar(r, &mut x.province),
        "province_code" => scalar(r, &mut x.province_code),
        "zip" => scalar(r, &mut x.zip),
        "country_code" => scalar(r, &mut x.country_code),
        "phone" => scalar(r, &mut x.phone),
        _ => r.skip(),
    })?;
    Ok(x)
}

#[derive(Debug, Default)]
pub struct Order<'a> {
    pub id: Field<'a>,
    pub name: Field<'a>,
    pub email: Field<'a>,
    pub contact_email: Field<'a>,
    pub phone: Field<'a>,
    pub currency: Field<'a>,
    pub presentment_currency: Field<'a>,
    pub created_at: Field<'a>,
    pub updated_at: Field<'a>,
    pub cancelled_at: Field<'a>,
    pub closed_at: Field<'a>,
    pub cancel_reason: Field<'a>,
    pub financial_status: Field<'a>,
    pub fulfillment_status: Field<'a>,
    pub taxes_included: Field<'a>,
    pub tags: Field<'a>,
    pub note: Field<'a>,
    pub note_attributes: Slot<Typed<Vec<Pair<'a>>>>,
    pub customer: Slot<Typed<Customer<'a>>>,
    pub billing_address: Slot<Typed<Address<'a>>>,
    pub shipping_address: Slot<Typed<Address<'a>>>,
    pub line_items: Slot<Typed<Vec<LineItem<'a>>>>,
    pub shipping_lines: Slot<Typed<Vec<ShippingLine<'a>>>>,
    pub discount_applications: Slot<Typed<Vec<DiscountApplication<'a>>>>,
    pub discount_codes: Slot<Typed<Vec<DiscountCode<'a>>>>,
    pub refunds: Slot<Typed<Vec<Refund<'a>>>>,
    pub subtotal_price: Field<'a>,
    pub subtotal_price_set: Slot<Typed<MoneySet>>,
    pub total_discounts: Field<'a>,
    pub total_discounts_set: Slot<Typed<MoneySet>>,
    pub total_tax: Field<'a>,
    pub total_tax_set: Slot<Typed<MoneySet>>,
    pub total_price: Field<'a>,
    pub total_price_set: Slot<Typed<MoneySet>>,
    pub current_total_price: Field<'a>,
    pub current_total_price_set: Slot<Typed<MoneySet>>,
    pub total_outstanding: Field<'a>,
    pub total_outstanding_set: Slot<Typed<MoneySet>>,
    pub total_shipping_price_set: Slot<Typed<MoneySet>>,
}

/// The keys of `_Order`; false for any other key.
fn order_key<'a>(r: &mut Reader<'a>, x: &mut Order<'a>, key: &str) -> R<bool> {
    match key {
        "id" => scalar(r, &mut x.id)?,
        "name" => scalar(r, &mut x.name)?,
        "email" => scalar(r, &mut x.email)?,
        "contact_email" => scalar(r, &mut x.contact_email)?,
        "phone" => scalar(r, &mut x.phone)?,
        "currency" => scalar(r, &mut x.currency)?,
        "presentment_currency" => scalar(r, &mut x.presentment_currency)?,
        "created_at" => scalar(r, &mut x.created_at)?,
        "updated_at" => scalar(r, &mut x.updated_at)?,
        "cancelled_at" => scalar(r, &mut x.cancelled_at)?,
        "closed_at" => scalar(r, &mut x.closed_at)?,
        "cancel_reason" => scalar(r, &mut x.cancel_reason)?,
        "financial_status" => scalar(r, &mut x.financial_status)?,
        "fulfillment_status" => scalar(r, &mut x.fulfillment_status)?,
        "taxes_included" => scalar(r, &mut x.taxes_included)?,
        "tags" => scalar(r, &mut x.tags)?,
        "note" => scalar(r, &mut x.note)?,
        "note_attributes" => list(r, &mut x.note_attributes, pair)?,
        "customer" => typed(r, &mut x.customer, customer)?,
        "billing_address" => typed(r, &mut x.billing_address, address)?,
        "shipping_address" => typed(r, &mut x.shipping_address, address)?,
        "line_items" => list(r, &mut x.line_items, line_item)?,
        "shipping_lines" => list(r, &mut x.shipping_lines, shipping_line)?,
        "discount_applications" => list(r, &mut x.discount_applications, discount_application)?,
        "discount_codes" => list(r, &mut x.discount_codes, discount_code)?,
        "refunds" => list(r, &mut x.refunds, refund)?,
        "subtotal_price" => scalar(r, &mut x.subtotal_price)?,
        "subtotal_price_set" => typed(r, &mut x.subtotal_price_set, money_set)?,
        "total_discounts" => scalar(r, &mut x.total_discounts)?,
        "total_discounts_set" => typed(r, &mut x.total_discounts_set, money_set)?,
        "total_tax" => scalar(r, &mut x.total_tax)?,
        "total_tax_set" => typed(r, &mut x.total_tax_set, money_set)?,
        "total_price" => scalar(r, &mut x.total_price)?,
        "total_price_set" => typed(r, &mut x.total_price_set, money_set)?,
        "current_total_price" => scalar(r, &mut x.current_total_price)?,
        "current_total_price_set" => typed(r, &mut x.current_total_price_set, money_set)?,
        "total_outstanding" => scalar(r, &mut x.total_outstanding)?,
        "total_outstanding_set" => typed(r, &mut x.total_outstanding_set, money_set)?,
        "total_shipping_price_set" => typed(r, &mut x.total_shipping_price_set, money_set)?,
        _ => return Ok(false),
    }
    Ok(true)
}

fn order<'a>(r: &mut Reader<'a>) -> R<Order<'a>> {
    let mut x = Order::default();
    r.object(|r, key| {
        if !order_key(r, &mut x, &key)? {
            r.skip()?;
        }
        Ok(())
    })?;
    Ok(x)
}

/// The orders of a payload as `_fields.unwrap(document, "order", "orders")` finds them: the
/// `orders` array, else the `order` object, else the document itself. Declines a document that
/// is not an object, a wrapper holding anything but objects, and a payload without orders.
pub fn document<'a>(r: &mut Reader<'a>) -> R<Vec<Order<'a>>> {
    if r.peek() != Some(b'{') {
        return Err(Decline);
    }
    let mut root = Order::default();
    let mut one: Slot<Typed<Order<'a>>> = None;
    let mut many: Slot<Typed<Vec<Order<'a>>>> = None;
    r.object(|r, key: Cow<'a, str>| match &*key {
        "order" => typed(r, &mut one, order),
        "orders" => list(r, &mut many, order),
        _ => {
            if !order_key(r, &mut root, &key)? {
                r.skip()?;
            }
            Ok(())
        }
    })?;
    r.finish()?;
    let orders = match (many, one) {
        (Some(Typed::Val(orders)), _) => orders,
        (Some(_), _) => return Err(Decline),
        (None, Some(Typed::Val(order))) => vec![order],
        (None, Some(_)) => return Err(Decline),
        (None, None) => vec![root],
    };
    if orders.is_empty() {
        return Err(Decline);
    }
    Ok(orders)
}

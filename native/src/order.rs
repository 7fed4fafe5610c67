//! `adapters/shopify/orders.py` (+ `totals.py`, `_plain.py`): a Shopify order as the Avro body of
//! the canonical `Order` (schemas/orders/Order.avsc), written in the schema's field order.

use std::borrow::Cow;

use crate::avro;
use crate::ids::canonical;
use crate::instant::{millis, opt_timestamp, timestamp};
use crate::json::{Decline, Reader, Scalar, R};
use crate::money::{self, computed, Code, Money};
use crate::text::{opt_boolean, opt_text, or_text, py_strip, quantity, text};
use crate::wire::{
    self, Address, Allocation, DiscountApplication, LineItem, MoneySet, Pair, SetMoney,
    ShippingLine, Slot, TaxLine, Typed,
};

/// `adapters/shopify/_shared.SYSTEM`: the `channel` of every order.
const CHANNEL: &str = "shopify";
/// `load_json`'s limit.
const MAX_BYTES: usize = 5 * 1024 * 1024;

/// One order: what the Python side needs besides the Avro body.
pub struct Translated {
    pub order_id: String,
    pub native_id: String,
    pub placed_at: i64,
    pub updated_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub avro: Vec<u8>,
}

/// Every order of a webhook body, or a decline.
pub fn translate(body: &[u8], system: &str, account: &str) -> R<Vec<Translated>> {
    if body.len() > MAX_BYTES {
        return Err(Decline);
    }
    let text = std::str::from_utf8(body).map_err(|_| Decline)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text); // load_json decodes "utf-8-sig"
    let mut reader = Reader::new(text);
    let orders = wire::document(&mut reader)?;
    orders.iter().map(|o| order(o, system, account)).collect()
}

/// A declared array: absent and null are no element; another kind of value declines.
fn items<T>(slot: &Slot<Typed<Vec<T>>>) -> R<&[T]> {
    match slot {
        None | Some(Typed::Null) => Ok(&[]),
        Some(Typed::Val(items)) => Ok(items),
        Some(Typed::Bad) => Err(Decline),
    }
}

fn is_none(value: Option<&Scalar<'_>>) -> bool {
    value.is_none_or(Scalar::is_null)
}

fn plain(entry: Option<&SetMoney>) -> R<Money> {
    match entry {
        Some(SetMoney::Plain(m)) => Ok(*m),
        _ => Err(Decline),
    }
}

/// `_plain.money_pair`: the shop money (from the `*_set` twin when there is one, else the scalar
/// amount in the shop currency) and the presentment money.
fn money_pair(
    amount: Option<&Scalar<'_>>,
    twin: &Slot<Typed<MoneySet>>,
    shop: Code,
) -> R<(Money, Option<Money>)> {
    match twin {
        Some(Typed::Val(set)) => {
            let shop_money = plain(set.shop())?;
            if shop_money.code != shop {
                return Err(Decline); // a rejection
            }
            let presentment = match set.presentment() {
                None => None,
                entry => Some(plain(entry)?),
            };
            Ok((shop_money, presentment))
        }
        Some(Typed::Bad) => Err(Decline),
        None | Some(Typed::Null) => Ok((
            Money {
                units: money::amount(amount)?,
                code: shop,
            },
            None,
        )),
    }
}

/// `_plain.opt_money_pair`.
fn opt_money_pair(
    amount: Option<&Scalar<'_>>,
    twin: &Slot<Typed<MoneySet>>,
    shop: Code,
) -> R<Option<(Money, Option<Money>)>> {
    if is_none(amount) && matches!(twin, None | Some(Typed::Null)) {
        return Ok(None);
    }
    money_pair(amount, twin, shop).map(Some)
}

fn code_str(code: &Code) -> &str {
    std::str::from_utf8(code).unwrap_or("")
}

/// What the discount applications were given by the allocations (`by_index` in orders.py).
#[derive(Default, Clone)]
struct Allocated {
    shop: i128,
    presentment: i128,
    presentment_code: Option<Code>,
}

struct Context<'o, 'a> {
    shop: Code,
    applications: &'o [DiscountApplication<'a>],
    allocated: Vec<Allocated>,
}

/// `_allocations`: written to `out`, added to the applications' sums; returns their shop total.
fn allocations(out: &mut Vec<u8>, list: &[Allocation<'_>], cx: &mut Context<'_, '_>) -> R<i128> {
    let mut total: i128 = 0;
    avro::block(out, list.len());
    for allocation in list {
        let (amount, presentment) =
            money_pair(allocation.amount.as_ref(), &allocation.amount_set, cx.shop)?;
        let index = match &allocation.discount_application_index {
            None | Some(Scalar::Null) => None,
            // An integer beyond 18 digits is no index into the applications either.
            Some(Scalar::Int(literal)) => crate::text::int_value(literal).ok(),
            _ => return Err(Decline), // `JsonNode.integer()`'s other forms
        };
        let application = index
            .filter(|&i| i >= 0 && (i as usize) < cx.applications.len())
            .map(|i| i as usize);
        let (code, title) = match application {
            Some(i) => {
                let app = &cx.applications[i];
                (opt_text(app.code.as_ref())?, opt_text(app.title.as_ref())?)
            }
            None => (None, None),
        };
        if let Some(i) = application {
            let sums = &mut cx.allocated[i];
            sums.shop = sums.shop.checked_add(amount.units).ok_or(Decline)?;
            if let Some(p) = presentment {
                sums.presentment = sums.presentment.checked_add(p.units).ok_or(Decline)?;
                sums.presentment_code.get_or_insert(p.code);
            }
        }
        total = total.checked_add(amount.units).ok_or(Decline)?;
        avro::money(out, &amount);
        avro::opt_money(out, presentment.as_ref());
        avro::opt_string(out, code.as_deref());
        avro::opt_string(out, title.as_deref());
    }
    avro::end(out);
    Ok(total)
}

/// `_tax_lines`.
fn tax_lines(out: &mut Vec<u8>, list: &[TaxLine<'_>], shop: Code) -> R<()> {
    avro::block(out, list.len());
    for tax in list {
        let (amount, presentment) = money_pair(tax.price.as_ref(), &tax.price_set, shop)?;
        let title = opt_text(tax.title.as_ref())?;
        avro::string(out, title.as_deref().unwrap_or("tax"));
        match &tax.rate {
            None | Some(Scalar::Null) => avro::null(out),
            Some(rate) => {
                avro::some(out);
                avro::decimal(out, money::rate(rate)?);
            }
        }
        avro::money(out, &amount);
        avro::opt_money(out, presentment.as_ref());
        avro::null(out); // jurisdiction
    }
    avro::end(out);
    Ok(())
}

/// `_string_map` (note attributes, line properties): string and integer values; null values are
/// left out; other values (written as JSON by the adapter) decline.
fn string_map(out: &mut Vec<u8>, slot: &Slot<Typed<Vec<Pair<'_>>>>) -> R<()> {
    let mut entries: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::new();
    for pair in items(slot)? {
        let name = text(pair.name.as_ref())?;
        let value = match &pair.value {
            None | Some(Scalar::Null) => continue,
            Some(Scalar::Str(s)) => s.clone(),
            Some(Scalar::Int(literal)) => crate::text::int_text(literal)?,
            _ => return Err(Decline),
        };
        // A dict: a repeated name keeps its first place and takes the last value.
        match entries.iter_mut().find(|(key, _)| *key == name) {
            Some(entry) => entry.1 = value,
            None => entries.push((name, value)),
        }
    }
    avro::block(out, entries.len());
    for (key, value) in &entries {
        avro::string(out, key);
        avro::string(out, value);
    }
    avro::end(out);
    Ok(())
}

/// `_line`.
fn line(out: &mut Vec<u8>, line: &LineItem<'_>, cx: &mut Context<'_, '_>) -> R<()> {
    let units = quantity(line.quantity.as_ref())?;
    let (price, presentment_price) = money_pair(line.price.as_ref(), &line.price_set, cx.shop)?;
    let line_id = text(line.id.as_ref())?;
    let title = or_text(opt_text(line.title.as_ref())?, || {
        opt_text(line.name.as_ref())
    })?;
    avro::string(out, &line_id);
    avro::opt_string(out, opt_text(line.sku.as_ref())?.as_deref());
    avro::opt_string(out, opt_text(line.product_id.as_ref())?.as_deref());
    avro::opt_string(out, opt_text(line.variant_id.as_ref())?.as_deref());
    avro::string(out, title.as_deref().unwrap_or(""));
    avro::opt_string(out, opt_text(line.variant_title.as_ref())?.as_deref());
    avro::long(out, units);
    avro::string(out, "EA");
    avro::money(out, &price);
    avro::opt_money(out, presentment_price.as_ref());
    let discounted = allocations(out, items(&line.discount_allocations)?, cx)?;
    tax_lines(out, items(&line.tax_lines)?, cx.shop)?;
    let gross = price.units.checked_mul(units as i128).ok_or(Decline)?;
    let total = computed(gross.checked_sub(discounted).ok_or(Decline)?, cx.shop)?;
    avro::some(out);
    avro::money(out, &total);
    avro::boolean(out, opt_boolean(line.requires_shipping.as_ref(), true)?);
    if is_none(line.fulfillable_quantity.as_ref()) {
        avro::null(out);
    } else {
        avro::some(out);
        avro::long(out, quantity(line.fulfillable_quantity.as_ref())?);
    }
    avro::null(out); // fulfillment_location
    string_map(out, &line.properties)
}

/// `_shipping`; returns the line's price (the legacy total shipping sums them).
fn shipping(out: &mut Vec<u8>, line: &ShippingLine<'_>, cx: &mut Context<'_, '_>) -> R<i128> {
    let (price, presentment) = money_pair(line.price.as_ref(), &line.price_set, cx.shop)?;
    let discounted = opt_money_pair(
        line.discounted_price.as_ref(),
        &line.discounted_price_set,
        cx.shop,
    )?;
    let code = opt_text(line.code.as_ref())?;
    let title = or_text(opt_text(line.title.as_ref())?, || Ok(code.clone()))?;
    let carrier = or_text(opt_text(line.carrier_identifier.as_ref())?, || {
        opt_text(line.source.as_ref())
    })?;
    avro::opt_string(out, opt_text(line.id.as_ref())?.as_deref());
    avro::opt_string(out, code.as_deref());
    avro::string(out, title.as_deref().unwrap_or("shipping"));
    avro::opt_string(out, carrier.as_deref());
    avro::money(out, &price);
    avro::opt_money(out, discounted.as_ref().map(|pair| &pair.0));
    avro::opt_money(out, presentment.as_ref());
    allocations(out, items(&line.discount_allocations)?, cx)?;
    tax_lines(out, items(&line.tax_lines)?, cx.shop)?;
    Ok(price.units)
}

/// `_discounts`: the applications with what was allocated to them, or (legacy payloads without
/// applications) the discount codes.
fn discounts(out: &mut Vec<u8>, o: &wire::Order<'_>, cx: &Context<'_, '_>) -> R<()> {
    match &o.discount_applications {
        None | Some(Typed::Null) => {
            let codes = items(&o.discount_codes)?;
            avro::block(out, codes.len());
            for code in codes {
                let (amount, _) = money_pair(code.amount.as_ref(), &code.amount_set, cx.shop)?;
                avro::opt_string(out, opt_text(code.code.as_ref())?.as_deref());
                avro::null(out); // title
                avro::opt_string(out, Some("discount_code"));
                avro::symbol(out, 2); // DiscountTarget.ORDER
                avro::money(out, &amount);
                avro::null(out);
            }
            avro::end(out);
        }
        Some(Typed::Bad) => return Err(Decline),
        Some(Typed::Val(applications)) => {
            avro::block(out, applications.len());
            for (application, sums) in applications.iter().zip(&cx.allocated) {
                let amount = computed(sums.shop, cx.shop)?;
                let presentment = match sums.presentment_code {
                    Some(code) => Some(computed(sums.presentment, code)?),
                    None => None,
                };
                let title = or_text(opt_text(application.title.as_ref())?, || {
                    opt_text(application.description.as_ref())
                })?;
                let target = match opt_text(application.target_type.as_ref())?.as_deref() {
                    Some("line_item") => 0, // LINE_ITEMS
                    Some("shipping_line") => 1,
                    _ => 2, // ORDER
                };
                avro::opt_string(out, opt_text(application.code.as_ref())?.as_deref());
                avro::opt_string(out, title.as_deref());
                avro::opt_string(out, opt_text(application.kind.as_ref())?.as_deref());
                avro::symbol(out, target);
                avro::money(out, &amount);
                avro::opt_money(out, presentment.as_ref());
            }
            avro::end(out);
        }
    }
    Ok(())
}

/// `totals._refunded`: successful refund transactions in the shop currency, None when there are
/// no refunds or one is in another currency.
fn refunded(o: &wire::Order<'_>, shop: Code) -> R<Option<Money>> {
    let refunds = items(&o.refunds)?;
    if refunds.is_empty() {
        return Ok(None);
    }
    let mut total: i128 = 0;
    for refund in refunds {
        for txn in items(&refund.transactions)? {
            if opt_text(txn.kind.as_ref())?.as_deref() != Some("refund") {
                continue;
            }
            match opt_text(txn.status.as_ref())?.as_deref() {
                None | Some("success") => {}
                Some(_) => continue,
            }
            let code = if is_none(txn.currency.as_ref()) {
                shop
            } else {
                money::currency(txn.currency.as_ref())?
            };
            if code != shop {
                return Ok(None);
            }
            let (amount, _) = money_pair(txn.amount.as_ref(), &txn.amount_set, shop)?;
            total = total.checked_add(amount.units).ok_or(Decline)?;
        }
    }
    computed(total, shop).map(Some)
}

/// `totals.order_totals`: the totals in the shop currency, then the presentment totals (when
/// the source gives each of them).
fn totals(out: &mut Vec<u8>, o: &wire::Order<'_>, shop: Code, shipping_sum: i128) -> R<()> {
    let subtotal = money_pair(o.subtotal_price.as_ref(), &o.subtotal_price_set, shop)?;
    let discounts = money_pair(o.total_discounts.as_ref(), &o.total_discounts_set, shop)?;
    let tax = money_pair(o.total_tax.as_ref(), &o.total_tax_set, shop)?;
    let total = money_pair(o.total_price.as_ref(), &o.total_price_set, shop)?;
    let current = opt_money_pair(
        o.current_total_price.as_ref(),
        &o.current_total_price_set,
        shop,
    )?;
    let outstanding = opt_money_pair(o.total_outstanding.as_ref(), &o.total_outstanding_set, shop)?;
    let ship = match &o.total_shipping_price_set {
        Some(Typed::Val(set)) => {
            let presentment = match set.presentment() {
                None => None,
                entry => Some(plain(entry)?),
            };
            (plain(set.shop())?, presentment)
        }
        Some(Typed::Bad) => return Err(Decline),
        None | Some(Typed::Null) => (computed(shipping_sum, shop)?, None),
    };
    let refunded = refunded(o, shop)?;
    for m in [&subtotal.0, &discounts.0, &ship.0, &tax.0, &total.0] {
        avro::money(out, m);
    }
    avro::opt_money(out, refunded.as_ref());
    avro::opt_money(out, outstanding.as_ref().map(|pair| &pair.0));
    avro::opt_money(out, current.as_ref().map(|pair| &pair.0));
    match (subtotal.1, discounts.1, ship.1, tax.1, total.1) {
        (Some(s), Some(d), Some(sh), Some(t), Some(tot)) => {
            avro::some(out);
            for m in [&s, &d, &sh, &t, &tot] {
                avro::money(out, m);
            }
            avro::null(out); // refunded
            avro::null(out); // outstanding
            avro::opt_money(out, current.as_ref().and_then(|pair| pair.1.as_ref()));
        }
        _ => avro::null(out),
    }
    Ok(())
}

/// `_customer`: the customer object, else a guest when the order has an email.
fn customer(out: &mut Vec<u8>, o: &wire::Order<'_>, system: &str, account: &str) -> R<()> {
    let email = or_text(opt_text(o.email.as_ref())?, || {
        opt_text(o.contact_email.as_ref())
    })?;
    match &o.customer {
        None | Some(Typed::Null) => match email {
            None => avro::null(out),
            Some(email) => {
                avro::some(out);
                avro::null(out); // customer_id
                avro::null(out); // native_id
                avro::opt_string(out, Some(&email));
                avro::opt_string(out, opt_text(o.phone.as_ref())?.as_deref());
                avro::null(out); // first_name
                avro::null(out); // last_name
                avro::boolean(out, true);
            }
        },
        Some(Typed::Bad) => return Err(Decline),
        Some(Typed::Val(c)) => {
            let native = text(c.id.as_ref())?;
            let customer_id = canonical(system, account, "customer", &native)?;
            let email = or_text(opt_text(c.email.as_ref())?, || Ok(email))?;
            let phone = or_text(opt_text(c.phone.as_ref())?, || opt_text(o.phone.as_ref()))?;
            avro::some(out);
            avro::some(out);
            avro::string(out, &customer_id);
            avro::opt_string(out, Some(&native));
            avro::opt_string(out, email.as_deref());
            avro::opt_string(out, phone.as_deref());
            avro::opt_string(out, opt_text(c.first_name.as_ref())?.as_deref());
            avro::opt_string(out, opt_text(c.last_name.as_ref())?.as_deref());
            avro::boolean(out, false);
        }
    }
    Ok(())
}

/// `_plain.address`: none for null or an object without keys.
fn address(out: &mut Vec<u8>, slot: &Slot<Typed<Address<'_>>>) -> R<()> {
    let a = match slot {
        Some(Typed::Val(a)) if a.has_keys => a,
        Some(Typed::Bad) => return Err(Decline),
        _ => {
            avro::null(out);
            return Ok(());
        }
    };
    let country = opt_text(a.country_code.as_ref())?;
    let province = opt_text(a.province_code.as_ref())?;
    let street: Vec<Cow<'_, str>> = [
        opt_text(a.address1.as_ref())?,
        opt_text(a.address2.as_ref())?,
    ]
    .into_iter()
    .flatten()
    .collect();
    let name = match opt_text(a.name.as_ref())? {
        Some(name) => Some(name),
        None => {
            let parts: Vec<Cow<'_, str>> = [
                opt_text(a.first_name.as_ref())?,
                opt_text(a.last_name.as_ref())?,
            ]
            .into_iter()
            .flatten()
            .collect();
            let joined = parts.join(" ");
            if joined.is_empty() {
                None
            } else {
                Some(Cow::Owned(joined))
            }
        }
    };
    avro::some(out);
    avro::opt_string(out, name.as_deref());
    avro::opt_string(out, opt_text(a.company.as_ref())?.as_deref());
    avro::block(out, street.len());
    for line in &street {
        avro::string(out, line);
    }
    avro::end(out);
    avro::opt_string(out, opt_text(a.city.as_ref())?.as_deref());
    avro::opt_string(out, opt_text(a.province.as_ref())?.as_deref());
    match (&country, &province) {
        (Some(c), Some(p)) => avro::opt_string(out, Some(&format!("{c}-{p}"))),
        _ => avro::null(out),
    }
    avro::opt_string(out, opt_text(a.zip.as_ref())?.as_deref());
    avro::opt_string(out, country.as_deref());
    avro::opt_string(out, opt_text(a.phone.as_ref())?.as_deref());
    Ok(())
}

fn financial_status(status: Option<&str>) -> i64 {
    match status {
        Some("pending") => 0,
        Some("authorized") => 1,
        Some("partially_paid") => 2,
        Some("paid") => 3,
        Some("partially_refunded") => 4,
        Some("refunded") => 5,
        Some("voided") => 6,
        _ => 8, // UNKNOWN
    }
}

fn fulfillment_status(status: Option<&str>) -> i64 {
    match status {
        None | Some("unfulfilled") => 0, // Shopify sends null for unfulfilled
        Some("partial") => 1,
        Some("fulfilled") => 2,
        Some("restocked") => 3,
        Some(_) => 4, // UNKNOWN
    }
}

/// `_order_event`'s `Order`.
fn order(o: &wire::Order<'_>, system: &str, account: &str) -> R<Translated> {
    let native_id = text(o.id.as_ref())?;
    let shop = money::currency(o.currency.as_ref())?;
    let presentment_currency = if is_none(o.presentment_currency.as_ref()) {
        None
    } else {
        Some(money::currency(o.presentment_currency.as_ref())?)
    };
    let placed_at = timestamp(o.created_at.as_ref())?;
    let updated_at = opt_timestamp(o.updated_at.as_ref())?;
    let cancelled_at = opt_timestamp(o.cancelled_at.as_ref())?;
    let closed_at = opt_timestamp(o.closed_at.as_ref())?;
    let applications = items(&o.discount_applications)?;
    let order_id = canonical(system, account, "order", &native_id)?;

    let mut out = Vec::with_capacity(4096);
    avro::string(&mut out, &order_id);
    avro::string(&mut out, CHANNEL);
    avro::string(&mut out, account);
    avro::string(&mut out, &native_id);
    avro::opt_string(&mut out, opt_text(o.name.as_ref())?.as_deref());
    avro::long(&mut out, millis(placed_at));
    avro::opt_long(&mut out, updated_at.map(millis));
    customer(&mut out, o, system, account)?;
    address(&mut out, &o.billing_address)?;
    address(&mut out, &o.shipping_address)?;

    let mut cx = Context {
        shop,
        applications,
        allocated: vec![Allocated::default(); applications.len()],
    };
    let lines = items(&o.line_items)?;
    avro::block(&mut out, lines.len());
    for item in lines {
        line(&mut out, item, &mut cx)?;
    }
    avro::end(&mut out);
    let shipping_lines = items(&o.shipping_lines)?;
    let mut shipping_sum: i128 = 0;
    avro::block(&mut out, shipping_lines.len());
    for item in shipping_lines {
        shipping_sum = shipping_sum
            .checked_add(shipping(&mut out, item, &mut cx)?)
            .ok_or(Decline)?;
    }
    avro::end(&mut out);
    discounts(&mut out, o, &cx)?;

    avro::string(&mut out, code_str(&shop));
    avro::opt_string(&mut out, presentment_currency.as_ref().map(code_str));
    avro::boolean(&mut out, opt_boolean(o.taxes_included.as_ref(), false)?);
    totals(&mut out, o, shop, shipping_sum)?;
    let status = opt_text(o.financial_status.as_ref())?;
    avro::symbol(&mut out, financial_status(status.as_deref()));
    avro::symbol(
        &mut out,
        fulfillment_status(opt_text(o.fulfillment_status.as_ref())?.as_deref()),
    );
    avro::opt_string(&mut out, status.as_deref());
    if cancelled_at.is_some() || !is_none(o.cancel_reason.as_ref()) {
        avro::some(&mut out);
        avro::opt_long(&mut out, cancelled_at.map(millis));
        avro::opt_string(&mut out, opt_text(o.cancel_reason.as_ref())?.as_deref());
    } else {
        avro::null(&mut out);
    }
    avro::opt_long(&mut out, closed_at.map(millis));
    let tags = opt_text(o.tags.as_ref())?;
    let tags: Vec<&str> = match &tags {
        Some(text) => text
            .split(',')
            .map(py_strip)
            .filter(|tag| !tag.is_empty())
            .collect(),
        None => Vec::new(),
    };
    avro::block(&mut out, tags.len());
    for tag in &tags {
        avro::string(&mut out, tag);
    }
    avro::end(&mut out);
    avro::opt_string(&mut out, opt_text(o.note.as_ref())?.as_deref());
    string_map(&mut out, &o.note_attributes)?;

    Ok(Translated {
        order_id,
        native_id: native_id.into_owned(),
        placed_at,
        updated_at,
        cancelled_at,
        closed_at,
        avro: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ESB_NATIVE_PROFILE=body.json cargo test --release -- --ignored profile`: time per order.
    #[test]
    #[ignore]
    fn profile() {
        let path = std::env::var("ESB_NATIVE_PROFILE").expect("ESB_NATIVE_PROFILE");
        let body = std::fs::read(path).unwrap();
        let rounds = std::env::var("ESB_NATIVE_ROUNDS").map_or(15, |r| r.parse().unwrap());
        let n = 20_000;
        let mut best = f64::INFINITY;
        for _ in 0..rounds {
            let start = std::time::Instant::now();
            for _ in 0..n {
                std::hint::black_box(
                    translate(std::hint::black_box(&body), "shopify", "shop").unwrap(),
                );
            }
            best = best.min(start.elapsed().as_secs_f64() / n as f64);
        }
        eprintln!("{:.2} µs per order (best round)", best * 1e6);
    }
}

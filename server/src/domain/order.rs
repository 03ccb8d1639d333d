//! What may happen to an order as a whole.

use wallet_checkout_contract::OrderStatus;

/// Why an order may not be canceled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelRefusal {
    /// It was paid or canceled already.
    Closed,
    /// A payment of it is in flight: the wallet approved and its confirmation is on the way.
    PaymentInProgress,
}

/// Whether an order of `status` with `in_flight` processing sessions may be canceled (its pending
/// sessions are canceled with it). The database asks this holding the order's row.
pub fn may_cancel(status: OrderStatus, in_flight: i64) -> Result<(), CancelRefusal> {
    if status != OrderStatus::Open {
        return Err(CancelRefusal::Closed);
    }
    if in_flight > 0 {
        return Err(CancelRefusal::PaymentInProgress);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_open_order_with_no_payment_in_flight_is_canceled() {
        assert_eq!(may_cancel(OrderStatus::Open, 0), Ok(()));
        assert_eq!(may_cancel(OrderStatus::Open, 1), Err(CancelRefusal::PaymentInProgress));
        assert_eq!(may_cancel(OrderStatus::Paid, 0), Err(CancelRefusal::Closed));
        assert_eq!(may_cancel(OrderStatus::Canceled, 0), Err(CancelRefusal::Closed));
    }
}

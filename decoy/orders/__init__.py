"""The order's whole life beyond its registration: legal maxima, kinds as the law names them,
withdrawals, closing and reopening an operation with its end report, and leads."""

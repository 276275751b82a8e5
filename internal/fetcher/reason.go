package fetcher

import (
	"context"
	"errors"
	"net"
	"strings"
)

// Reason names the kind of a fetch error, for logs and the
// tensionwatch_collector_fetch_errors_total{reason} metric: http_4xx,
// http_5xx, rate_limited, too_large, not_a_feed, private_address, timeout,
// redirects, network, canceled or other.
func Reason(err error) string {
	var he *HTTPError
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &he) && he.StatusCode == 429:
		return "rate_limited"
	case errors.As(err, &he) && he.StatusCode >= 500:
		return "http_5xx"
	case errors.As(err, &he):
		return "http_4xx"
	case errors.Is(err, ErrTooLarge):
		return "too_large"
	case errors.Is(err, ErrParse):
		return "not_a_feed"
	case errors.Is(err, ErrPrivateAddress):
		return "private_address"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "redirects"):
		return "redirects"
	case errors.As(err, &ne), strings.Contains(err.Error(), "connection"), strings.Contains(err.Error(), "EOF"):
		return "network"
	}
	return "other"
}

package webhook

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/claimsd/claimsd/domain/validation"
)

// MaxURL is the longest endpoint URL accepted.
const MaxURL = 2048

// CheckURL checks an endpoint's URL as given: absolute, https (http only
// when private addresses are allowed, for development), a host, no
// credentials or fragment, and not a literal address the engine refuses
// to call. Host names are checked again after each resolution, at every
// attempt (Refused).
func CheckURL(field, raw string, allowPrivate bool) *validation.Error {
	if strings.TrimSpace(raw) == "" {
		return validation.New(field, "required", "is required: the https:// address to deliver events to")
	}
	if len(raw) > MaxURL {
		return validation.Newf(field, "too_long", "must be at most %d characters", MaxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return validation.New(field, "invalid_url", "must be an absolute URL such as https://hooks.example.com/claimsd")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowPrivate:
	case u.Scheme == "http":
		return validation.New(field, "https_required", "must be https://: events carry claims and are signed, not hidden; plain http is allowed only with CLAIMSD_WEBHOOK_ALLOW_PRIVATE=true, for development")
	default:
		return validation.Newf(field, "https_required", "must be https://, not %s://", u.Scheme)
	}
	if u.User != nil {
		return validation.New(field, "credentials_in_url", "must not carry a user or password; the signature authenticates each delivery")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return validation.New(field, "invalid_url", "must not have a #fragment")
	}
	host := u.Hostname()
	if host == "" {
		return validation.New(field, "invalid_url", "must name a host")
	}
	if p := u.Port(); p != "" {
		if n, ok := atoiPort(p); !ok || n == 0 {
			return validation.New(field, "invalid_url", "has a port that is not 1 to 65535")
		}
	}
	if allowPrivate {
		return nil
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return validation.New(field, "private_address", "names this machine; the engine calls only public addresses (CLAIMSD_WEBHOOK_ALLOW_PRIVATE=true allows others, for development)")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if why := Refused(ip); why != "" {
			return validation.Newf(field, "private_address", "is %s; the engine calls only public addresses (CLAIMSD_WEBHOOK_ALLOW_PRIVATE=true allows others, for development)", why)
		}
	}
	return nil
}

func atoiPort(p string) (int, bool) {
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' || n > 65535 {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= 65535
}

// Refused says why the engine will not call ip ("" when it will): this
// machine, private networks, link-local addresses (where clouds keep their
// metadata services), shared address space, multicast, unspecified and
// reserved ranges. An IPv4 address inside IPv6 is judged as IPv4.
func Refused(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "not an address"
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "a link-local address"
	case ip.IsUnspecified():
		return "the unspecified address"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	for _, p := range refusedPrefixes {
		if p.net.Contains(ip) {
			return p.why
		}
	}
	return ""
}

var refusedPrefixes = func() []struct {
	net netip.Prefix
	why string
} {
	list := []struct{ cidr, why string }{
		{"0.0.0.0/8", "a 'this network' address"},
		{"100.64.0.0/10", "a shared (carrier-grade NAT) address"},
		{"192.0.0.0/24", "an IETF protocol address"},
		{"192.0.2.0/24", "a documentation address"},
		{"198.18.0.0/15", "a benchmarking address"},
		{"198.51.100.0/24", "a documentation address"},
		{"203.0.113.0/24", "a documentation address"},
		{"240.0.0.0/4", "a reserved address"},
		{"255.255.255.255/32", "the broadcast address"},
		{"64:ff9b::/96", "a NAT64 address"},
		{"64:ff9b:1::/48", "a NAT64 address"},
		{"100::/64", "a discard address"},
		{"2001:db8::/32", "a documentation address"},
		{"fec0::/10", "a site-local address"},
	}
	out := make([]struct {
		net netip.Prefix
		why string
	}, len(list))
	for i, l := range list {
		out[i].net, out[i].why = netip.MustParsePrefix(l.cidr), l.why
	}
	return out
}()

// RefusedAddress is the error an attempt meets when the address a host
// name resolved to is refused.
type RefusedAddress struct {
	Addr string
	Why  string
}

func (e *RefusedAddress) Error() string {
	return fmt.Sprintf("refused to call %s: it is %s (CLAIMSD_WEBHOOK_ALLOW_PRIVATE=true allows it, for development)", e.Addr, e.Why)
}

// CheckDial is for a dialer's Control hook: it refuses a connection to an
// address Refused names, after resolution, whatever name led there.
func CheckDial(address string) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("webhook dial %q: %w", address, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return &RefusedAddress{Addr: host, Why: "not an address"}
	}
	if why := Refused(ip); why != "" {
		return &RefusedAddress{Addr: ip.String(), Why: why}
	}
	return nil
}

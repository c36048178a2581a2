package mockserver

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// trustedProxies finds the client's address behind the proxies of Config.TrustedProxyHops and
// Config.TrustedProxies, as nginx's real_ip module does with real_ip_recursive on.
//
// The chain of a request is its X-Forwarded-For entries (every line, in order) followed by the connecting
// address. Each proxy appends the address it received the request from, so only the right end of the chain
// was written by your proxies; the left end is whatever the client sent. The chain is read from the right:
// position 0 (the connecting address) up to hops-1 are proxies by count, and any address inside a trusted
// network is a proxy too; the first address that is neither is the client. When every address is a proxy,
// the leftmost is the client. An entry that is not an IP address stops the walk: the client is the address
// to its right (the proxy that wrote it), so a garbled header never lets the client choose its key.
type trustedProxies struct {
	hops     int
	prefixes []netip.Prefix
}

// maxForwardedEntries bounds how many X-Forwarded-For entries are read, from the right: a chain of proxies is
// short, and a client must not make the server parse a header of the size of its header limit.
const maxForwardedEntries = 32

// newTrustedProxies checks the proxy settings.
func newTrustedProxies(hops int, prefixes []netip.Prefix) (trustedProxies, error) {
	if hops < 0 || hops > maxForwardedEntries {
		return trustedProxies{}, badField("TrustedProxyHops", strconv.Itoa(hops), "%d is not between 0 and %d", hops, maxForwardedEntries)
	}
	ps := make([]netip.Prefix, 0, len(prefixes))
	for i, p := range prefixes {
		if !p.IsValid() {
			return trustedProxies{}, badField(fmt.Sprintf("TrustedProxies[%d]", i), p.String(), "not a network: want an address and a prefix length, e.g. 10.0.0.0/8 or fd00::/8")
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		ps = append(ps, p.Masked())
	}
	return trustedProxies{hops: hops, prefixes: ps}, nil
}

// trustsAny reports whether X-Forwarded-For is read at all.
func (t *trustedProxies) trustsAny() bool { return t.hops > 0 || len(t.prefixes) > 0 }

// trusted reports whether the address at position pos of the chain (0: the connecting address) is a proxy.
func (t *trustedProxies) trusted(pos int, addr netip.Addr) bool {
	if pos < t.hops {
		return true
	}
	for _, p := range t.prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// client returns the client's address for a request from remote (the host of RemoteAddr) carrying the
// X-Forwarded-For lines.
func (t *trustedProxies) client(remote string, lines []string) string {
	addr, ok := parseForwardedAddr(remote)
	if !ok {
		return remote // not an IP address (a unix socket): nothing to trust
	}
	if !t.trusted(0, addr) {
		return addr.String()
	}
	pos := 1
	for l := len(lines) - 1; l >= 0; l-- {
		line := lines[l]
		for line != "" && pos <= maxForwardedEntries {
			var entry string
			if i := strings.LastIndexByte(line, ','); i >= 0 {
				line, entry = line[:i], line[i+1:]
			} else {
				line, entry = "", line
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			next, ok := parseForwardedAddr(entry)
			if !ok {
				return addr.String() // garbled: the proxy that wrote it is the last address we can trust
			}
			addr = next
			if !t.trusted(pos, addr) {
				return addr.String()
			}
			pos++
		}
	}
	return addr.String() // every address was a proxy: the leftmost is the client
}

// parseForwardedAddr parses one X-Forwarded-For entry ("1.2.3.4", "1.2.3.4:5678", "2001:db8::1",
// "[2001:db8::1]:80"), unmapping IPv4-mapped IPv6 addresses and dropping zones.
func parseForwardedAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.Unmap().WithZone(""), true
}

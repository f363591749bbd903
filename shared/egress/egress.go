// Package egress decides which addresses a caller-given URL (a request's replyTo) may reach.
// Such a URL is chosen by whoever sends the request, so it must not turn the function into a
// way into the network it runs in: no instance metadata service (AWS 169.254.169.254 and
// fd00:ec2::254, Google metadata.google.internal), no private, link-local, unspecified or
// multicast address, and not the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API), where a post
// could answer the function's own invocation. Loopback stays reachable for tests and local
// runs.
//
// The rule is checked twice: early, on the URL as written (CheckURL: user information,
// literal addresses, the metadata names), so a request is refused before any call; and on
// every address actually dialled (Transport), so a name that resolves to a refused address is
// refused too.
package egress

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RuntimeAPIVariable is where Lambda names its Runtime API (host:port, on loopback).
const RuntimeAPIVariable = "AWS_LAMBDA_RUNTIME_API"

// metadataNames are the names of instance metadata services, refused whatever they resolve to.
var metadataNames = map[string]bool{
	"metadata.google.internal":   true,
	"metadata.goog":              true,
	"metadata":                   true,
	"instance-data":              true,
	"instance-data.ec2.internal": true,
}

// nonPublic are the ranges refused beyond what netip's predicates name: addresses that are not
// on the public internet and that a host may route to something of its own.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),         // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),     // shared address space (carrier NAT, some clouds' metadata)
	netip.MustParsePrefix("192.0.0.0/24"),      // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),     // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),       // reserved, and the broadcast address
	netip.MustParsePrefix("fd00:ec2::254/128"), // EC2's IPv6 metadata (inside fc00::/7 too)
}

// embedsIPv4 are IPv6 ranges that carry an IPv4 address a gateway may forward to: the
// embedded address is checked as well.
var embedsIPv4 = []struct {
	prefix netip.Prefix
	offset int // byte offset of the IPv4 address
}{
	{netip.MustParsePrefix("64:ff9b::/96"), 12}, // NAT64
	{netip.MustParsePrefix("2002::/16"), 2},     // 6to4
}

// An AddressError says why an address or URL is refused. Its text never quotes the URL (a
// reply URL may be a bearer capability): only the address class.
type AddressError struct {
	Reason string
}

func (e *AddressError) Error() string { return e.Reason }

// Permanent says that trying again cannot help: httpx does not retry such a failure.
func (e *AddressError) Permanent() bool { return true }

func refuse(format string, args ...any) error {
	return &AddressError{Reason: fmt.Sprintf(format, args...)}
}

// CheckAddr reports whether a call may dial addr: nil, or an *AddressError naming the class
// of address refused.
func CheckAddr(addr netip.AddrPort) error {
	a := addr.Addr().Unmap()
	if a.Zone() != "" {
		a = a.WithZone("")
	}
	if isRuntimeAPI(a, addr.Port()) {
		return refuse("the Lambda Runtime API address is refused")
	}
	if a.IsLoopback() {
		return nil
	}
	if err := checkIP(a); err != nil {
		return err
	}
	if a.Is6() {
		b := a.As16()
		for _, e := range embedsIPv4 {
			if e.prefix.Contains(a) {
				v4 := netip.AddrFrom4([4]byte(b[e.offset : e.offset+4]))
				if v4.IsLoopback() {
					return refuse("a loopback address behind a translation prefix is refused")
				}
				if err := checkIP(v4); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func checkIP(a netip.Addr) error {
	switch {
	case !a.IsValid():
		return refuse("an invalid address is refused")
	case a.IsUnspecified():
		return refuse("an unspecified address is refused")
	case a == netip.MustParseAddr("169.254.169.254") || a == netip.MustParseAddr("fd00:ec2::254"):
		return refuse("the instance metadata address is refused")
	case a.IsLinkLocalUnicast():
		return refuse("a link-local address is refused")
	case a.IsMulticast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast():
		return refuse("a multicast address is refused")
	case a.IsPrivate():
		return refuse("a private address is refused")
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return refuse("a reserved or non-public address is refused")
		}
	}
	return nil
}

// isRuntimeAPI reports whether (a, port) reaches the Lambda Runtime API. Its host is a
// loopback address (or a name for one): any loopback address with its port reaches the same
// listener, so all of them are refused.
func isRuntimeAPI(a netip.Addr, port uint16) bool {
	raw := strings.TrimSpace(os.Getenv(RuntimeAPIVariable))
	if raw == "" {
		return false
	}
	host, p, err := net.SplitHostPort(raw)
	if err != nil {
		return false
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || uint16(n) != port {
		return false
	}
	if ra, err := netip.ParseAddr(host); err == nil {
		ra = ra.Unmap().WithZone("")
		return ra == a || ra.IsLoopback() && a.IsLoopback()
	}
	return a.IsLoopback() // a name: Lambda's is loopback
}

// CheckURL checks what can be checked of a caller-given URL before any call: absolute https
// (plain http only for a loopback host), no user information (it would be sent on as Basic
// credentials), no metadata name, and no refused literal address.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return refuse("must be an absolute https URL")
	}
	if u.User != nil {
		return refuse("must not carry user information")
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && IsLoopbackHost(host):
	default:
		return refuse("must be an https URL (plain http only for loopback hosts)")
	}
	if metadataNames[host] {
		return refuse("the instance metadata service is refused")
	}
	port := uint16(443)
	if u.Scheme == "http" {
		port = 80
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return refuse("must have a port between 0 and 65535")
		}
		port = uint16(n)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return CheckAddr(netip.AddrPortFrom(a, port))
	}
	if host == "localhost" && isRuntimeAPI(netip.MustParseAddr("127.0.0.1"), port) {
		return refuse("the Lambda Runtime API address is refused")
	}
	return nil
}

// IsLoopbackHost reports whether host (without port) is a loopback name or address, the only
// hosts plain http:// is allowed for.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// control is the net.Dialer hook that sees the address about to be connected, after name
// resolution.
func control(_, address string, _ syscall.RawConn) error {
	addr, err := netip.ParseAddrPort(address)
	if err != nil {
		return refuse("an address that cannot be checked is refused")
	}
	return CheckAddr(addr)
}

// Transport returns an HTTP transport that dials only addresses CheckAddr allows, and uses no
// proxy (a proxy would be the address checked, not the one reached).
func Transport() *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: control}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// Refused reports whether err (from a call through Transport) is a refused address.
func Refused(err error) bool {
	var ae *AddressError
	return errors.As(err, &ae)
}

package egress_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lbfn/lbfn/shared/egress"
)

func TestCheckAddr(t *testing.T) {
	t.Setenv(egress.RuntimeAPIVariable, "127.0.0.1:9001")
	tests := []struct {
		addr string
		ok   bool
	}{
		{"93.184.215.14:443", true},
		{"[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:443", true},
		{"127.0.0.1:8080", true},
		{"127.0.0.5:443", true},
		{"[::1]:8080", true},
		{"127.0.0.1:9001", false},     // the Runtime API itself
		{"127.0.0.2:9001", false},     // any loopback address reaches its listener
		{"[::1]:9001", false},         //
		{"169.254.169.254:80", false}, // AWS and Google metadata
		{"[fd00:ec2::254]:80", false}, // AWS IPv6 metadata
		{"[::ffff:169.254.169.254]:80", false},
		{"169.254.1.1:443", false},
		{"[fe80::1]:443", false},
		{"[fe80::1%eth0]:443", false},
		{"10.0.0.1:443", false},
		{"172.16.5.4:443", false},
		{"192.168.1.1:443", false},
		{"[fc00::1]:443", false},
		{"100.100.100.200:80", false}, // carrier-NAT space, a metadata address elsewhere
		{"0.0.0.0:443", false},
		{"0.1.2.3:443", false},
		{"[::]:443", false},
		{"224.0.0.1:443", false},
		{"[ff02::1]:443", false},
		{"255.255.255.255:443", false},
		{"[64:ff9b::a9fe:a9fe]:80", false}, // NAT64 of 169.254.169.254
		{"[64:ff9b::7f00:1]:80", false},    // NAT64 of loopback: not the host's own
		{"[2002:a00:1::]:443", false},      // 6to4 of 10.0.0.1
		{"[64:ff9b::5db8:d70e]:443", true}, // NAT64 of a public address
	}
	for _, tt := range tests {
		err := egress.CheckAddr(netip.MustParseAddrPort(tt.addr))
		if (err == nil) != tt.ok {
			t.Errorf("CheckAddr(%s) = %v, want ok %v", tt.addr, err, tt.ok)
		}
	}
}

func TestCheckURL(t *testing.T) {
	t.Setenv(egress.RuntimeAPIVariable, "127.0.0.1:9001")
	tests := []struct {
		url  string
		want string // "" when accepted, else a word of the reason
	}{
		{"https://hooks.slack.com/actions/T/1/abc", ""},
		{"https://chatops.example.com:8443/reply/x", ""},
		{"http://127.0.0.1:8080/reply", ""},
		{"http://localhost:8080/reply", ""},
		{"http://[::1]:8080/reply", ""},
		{"https://user:pass@hooks.slack.com/x", "user information"},
		{"http://user@127.0.0.1:8080/x", "user information"},
		{"https://:@hooks.slack.com/x", "user information"},
		{"http://hooks.slack.com/x", "https"},
		{"ftp://127.0.0.1/x", "https"},
		{"/relative", "absolute"},
		{"https://", "absolute"},
		{"https://169.254.169.254/latest/meta-data/", "metadata"},
		{"http://169.254.169.254/latest/meta-data/", "https"},
		{"https://[fd00:ec2::254]/latest/meta-data/", "metadata"},
		{"https://metadata.google.internal/computeMetadata/v1/", "metadata"},
		{"https://METADATA.GOOGLE.INTERNAL./computeMetadata/v1/", "metadata"},
		{"https://10.1.2.3/x", "private"},
		{"https://192.168.0.1/x", "private"},
		{"https://[fe80::1]/x", "link-local"},
		{"https://0.0.0.0/x", "unspecified"},
		{"https://224.0.0.1/x", "multicast"},
		{"http://127.0.0.1:9001/2018-06-01/runtime/invocation/next", "Runtime API"},
		{"http://localhost:9001/2018-06-01/runtime/invocation/x/response", "Runtime API"},
		{"https://127.0.0.1:9001/x", "Runtime API"},
		{"https://127.0.0.1:99999/x", "port"},
	}
	for _, tt := range tests {
		err := egress.CheckURL(tt.url)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckURL(%q) = %v, want accepted", tt.url, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("CheckURL(%q) = %v, want a refusal saying %q", tt.url, err, tt.want)
		case err != nil && (strings.Contains(err.Error(), "pass") || strings.Contains(err.Error(), "slack")):
			t.Errorf("CheckURL(%q): the reason quotes the URL: %v", tt.url, err)
		}
	}
}

// TestTransportChecksTheDialledAddress: the address is checked after name resolution, so
// "localhost" reaching the Runtime API is refused as its literal address is, and nothing
// connects.
func TestTransportChecksTheDialledAddress(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	_, port, _ := net.SplitHostPort(u.Host)
	client := &http.Client{Transport: egress.Transport()}

	// Allowed while it is not the Runtime API.
	resp, err := client.Get("http://localhost:" + port + "/")
	if err != nil {
		t.Fatalf("loopback refused: %v", err)
	}
	resp.Body.Close()

	t.Setenv(egress.RuntimeAPIVariable, "127.0.0.1:"+port)
	client = &http.Client{Transport: egress.Transport()} // no pooled connection from before
	for _, host := range []string{"localhost", "127.0.0.1"} {
		_, err := client.Get("http://" + host + ":" + port + "/2018-06-01/runtime/invocation/next")
		var ae *egress.AddressError
		if !errors.As(err, &ae) || !egress.Refused(err) {
			t.Errorf("%s: err %v, want an *egress.AddressError", host, err)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the server saw %d requests, want only the allowed one", n)
	}
}

// TestTransportRefusesWithoutConnecting: a refused address fails at once, before any packet
// (169.254.169.254 does not even exist here).
func TestTransportRefusesWithoutConnecting(t *testing.T) {
	client := &http.Client{Transport: egress.Transport()}
	for _, u := range []string{"http://169.254.169.254/latest/meta-data/", "https://[fd00:ec2::254]/", "https://10.0.0.1/"} {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		_, err := client.Do(req)
		cancel()
		if !egress.Refused(err) {
			t.Errorf("%s: err %v, want refused", u, err)
		}
	}
}

// FuzzCheckURL: never a panic, and an accepted URL has no user information, an https scheme
// (or http on loopback), and, when its host is an address, one CheckAddr allows.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://hooks.slack.com/x", "http://127.0.0.1:1/x", "https://u:p@h/x", "https://[::ffff:a9fe:a9fe]/",
		"https://169.254.169.254/", "http://[fe80::1%25eth0]/", "https://0x7f.1/", "https://2130706433/", "http://127.0.0.1:65536/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if egress.CheckURL(s) != nil {
			return
		}
		u, err := url.Parse(s)
		if err != nil || u.User != nil || u.Host == "" {
			t.Fatalf("accepted %q: %v %v", s, err, u)
		}
		if u.Scheme != "https" && !(u.Scheme == "http" && egress.IsLoopbackHost(u.Hostname())) {
			t.Fatalf("accepted scheme of %q", s)
		}
		if a, err := netip.ParseAddr(u.Hostname()); err == nil {
			if egress.CheckAddr(netip.AddrPortFrom(a, 443)) != nil && egress.CheckAddr(netip.AddrPortFrom(a, 80)) != nil {
				t.Fatalf("accepted a refused address: %q", s)
			}
		}
	})
}

package trigger

import (
	"math/big"
	"testing"
	"time"
)

// FuzzTimestampWindow checks the window check against exact arithmetic: a timestamp passes
// only when it is digits only, at most maxTimestampDigits long, and within 300 s of now.
func FuzzTimestampWindow(f *testing.F) {
	for _, s := range []string{"1767225600", "1767225300", "1767225900", "1767225901", "+1767225600", "-9223372035087550208",
		"9223372036854775807", "0", "", "01767225600", "1767225600 ", "١٧٦٧٢٢٥٦٠٠"} {
		f.Add(s)
	}
	now := time.Unix(1767225600, 0)
	f.Fuzz(func(t *testing.T, s string) {
		sec, ok := parseTimestamp(s)
		pass := ok && withinWindow(sec, now)

		digits := s != "" && len(s) <= maxTimestampDigits
		for _, c := range []byte(s) {
			digits = digits && c >= '0' && c <= '9'
		}
		want := false
		if digits {
			n, _ := new(big.Int).SetString(s, 10)
			age := new(big.Int).Sub(big.NewInt(now.Unix()), n)
			want = age.CmpAbs(big.NewInt(300)) <= 0
		}
		if pass != want {
			t.Errorf("%q: passes %v, want %v", s, pass, want)
		}
	})
}

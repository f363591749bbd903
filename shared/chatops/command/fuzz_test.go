package command_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lbfn/lbfn/shared/chatops/command"
	"github.com/lbfn/lbfn/shared/op"
)

// FuzzParse: Parse never panics, answers either a command or a validation *op.Error with a
// bounded message, and a create carries one JSON object no bigger than what was typed
// allows. Normalize is idempotent. Seeds: testdata/fuzz/FuzzParse and these.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"help", "help ctyun-create-policy", "/lb create jdcloud-create-backend port=80 —dry-run",
		`create huawei-create-master-slave-pool pool.members[1].role=slave pool.members[0].role=master`,
		"create huawei-create-pool region＝cn-north-4 pool。protocol＝“TCP”",
		`create ctyun-create-policy ｛“regionID”：“r”，“conditions”：［｛“ruleType”：“HOST”｝］｝`,
		`create ctyun-create-policy description="a \" b" name='x' targetGroup={"name":"t"}`,
		`create jdcloud-create-backend healthCheckSpec={"a":[[[[{"b":"]"}]]]]} x[`,
		"create jdcloud-create-backend a[999].b[0]=1 a=「x」 b=‘c’d’", "\xff\xfe=“", "create \u3000\u00a0—",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		n := Normalize(text)
		if again := Normalize(n); again != n {
			t.Fatalf("Normalize is not idempotent on %q: %q then %q", text, n, again)
		}
		if !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q is not UTF-8", text, n)
		}
		c, err := command.Parse(text, ops)
		if err != nil {
			var e *op.Error
			if !errors.As(err, &e) || e.Kind != op.KindValidation || len(e.Violations) == 0 {
				t.Fatalf("Parse(%q) error %#v", text, err)
			}
			if len(e.Violations) > 51 || len(e.Message) > 8000 {
				t.Fatalf("Parse(%q): %d violations, message of %d bytes", text, len(e.Violations), len(e.Message))
			}
			return
		}
		switch c.Kind {
		case command.Help, command.HelpFunction:
			if c.Request != nil || c.DryRun {
				t.Fatalf("Parse(%q) = %+v", text, c)
			}
		case command.Create:
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(c.Request, &obj); err != nil {
				t.Fatalf("Parse(%q) request %s is not a JSON object: %v", text, c.Request, err)
			}
			// Every byte of the request comes from what was typed, plus quotes, brackets and
			// escapes: a small multiple at most.
			if len(c.Request) > 6*len(text)+2 {
				t.Fatalf("Parse(%q) request of %d bytes", text, len(c.Request))
			}
			for _, common := range []string{"idempotencyKey", "dryRun", "replyTo"} {
				if _, ok := obj[common]; ok {
					t.Fatalf("Parse(%q) lets chat set %s", text, common)
				}
			}
		default:
			t.Fatalf("Parse(%q) kind %v", text, c.Kind)
		}
	})
}

// Normalize is the package's, for the fuzz target's idempotence check.
var Normalize = command.Normalize

func TestParseHostile(t *testing.T) {
	// Deep brackets, long runs of quotes and dashes, a path of many steps: an answer, quickly.
	for _, text := range []string{
		"create jdcloud-create-backend healthCheckSpec=" + strings.Repeat("[", 8000),
		"create jdcloud-create-backend " + strings.Repeat("{", 8000),
		"create jdcloud-create-backend description=" + strings.Repeat("“", 5000),
		"create jdcloud-create-backend " + strings.Repeat("—", 5000),
		"create jdcloud-create-backend " + strings.Repeat("a.", 5000) + "=1",
		"create jdcloud-create-backend " + strings.Repeat("a[0]", 3000) + "=1",
		strings.Repeat("\u200b", 5000) + "help",
	} {
		if _, err := command.Parse(text, ops); err != nil {
			var e *op.Error
			if !errors.As(err, &e) || e.Kind != op.KindValidation {
				t.Errorf("Parse(%.40q…): %v", text, err)
			}
		}
	}
}

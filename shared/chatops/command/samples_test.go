package command_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lbfn/lbfn/shared/chatops/command"
)

// A pair is one path=value of a command, before it is written.
type pair struct {
	path  []string // "name" or "[i]" steps
	value string   // as typed (quoted when needed)
}

// pairsOf flattens a JSON value into the pairs that build it; with wholeArrays, arrays are
// given as JSON instead of item by item.
func pairsOf(v any, path []string, wholeArrays bool) []pair {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			return []pair{{path, "{}"}}
		}
		var out []pair
		names := make([]string, 0, len(v))
		for k := range v {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			out = append(out, pairsOf(v[k], append(slices.Clip(path), k), wholeArrays)...)
		}
		return out
	case []any:
		if len(v) == 0 || wholeArrays {
			b, _ := json.Marshal(v)
			return []pair{{path, string(b)}}
		}
		var out []pair
		for i, item := range v {
			out = append(out, pairsOf(item, append(slices.Clip(path), "["+itoa(i)+"]"), wholeArrays)...)
		}
		return out
	case string:
		if v == "" || strings.ContainsAny(v, " \"'\\{}[]=") {
			return []pair{{path, `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`}}
		}
		return []pair{{path, v}}
	case json.Number:
		return []pair{{path, v.String()}}
	case bool:
		if v {
			return []pair{{path, "true"}}
		}
		return []pair{{path, "false"}}
	}
	return nil
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// write joins pairs as typed: ascii, or as a Chinese input method in Chinese mode types them
// (full-width = and space, 。 for the dot, 【 】 for brackets, curly quotes).
func write(pairs []pair, chineseIME bool) string {
	var parts []string
	for _, p := range pairs {
		path := ""
		for _, step := range p.path {
			switch {
			case strings.HasPrefix(step, "[") && chineseIME:
				path += "【" + step[1:len(step)-1] + "】"
			case strings.HasPrefix(step, "["):
				path += step
			case path == "":
				path = step
			case chineseIME:
				path += "。" + step
			default:
				path += "." + step
			}
		}
		value := p.value
		if chineseIME && strings.HasPrefix(value, `"`) && !strings.Contains(value, `\`) {
			value = "“" + value[1:len(value)-1] + "”"
		}
		if chineseIME {
			parts = append(parts, path+"＝"+value)
		} else {
			parts = append(parts, path+"="+value)
		}
	}
	if chineseIME {
		return strings.Join(parts, "\u3000")
	}
	return strings.Join(parts, " ")
}

// TestParseSamples builds each function's own sample request (events/<function>/direct.json)
// from chat commands in every form, and checks the function's Decode accepts the result.
func TestParseSamples(t *testing.T) {
	for _, o := range ops {
		raw, err := os.ReadFile(filepath.Join("..", "..", "..", "events", o.Function(), "direct.json"))
		if err != nil {
			t.Fatalf("%s: %v", o.Function(), err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var sample map[string]any
		if err := dec.Decode(&sample); err != nil {
			t.Fatalf("%s: %v", o.Function(), err)
		}
		for _, common := range []string{"idempotencyKey", "dryRun", "replyTo"} {
			delete(sample, common)
		}
		want, _ := json.Marshal(sample)
		forms := map[string]string{
			"pairs":              write(pairsOf(sample, nil, false), false),
			"pairs, whole array": write(pairsOf(sample, nil, true), false),
			"pairs, Chinese IME": write(pairsOf(sample, nil, false), true),
			"JSON":               string(want),
			"JSON, indented":     indent(want),
		}
		for form, args := range forms {
			text := "create " + o.Function() + " " + args
			c, err := command.Parse(text, ops)
			if err != nil {
				t.Errorf("%s, %s: Parse(%q): %v", o.Function(), form, text, err)
				continue
			}
			if c.Kind != command.Create || c.Function != o.Function() || c.DryRun {
				t.Errorf("%s, %s: Parse = %+v", o.Function(), form, c)
			}
			if !sameJSON(t, c.Request, want) {
				t.Errorf("%s, %s: Parse(%q)\n= %s\nwant %s", o.Function(), form, text, c.Request, want)
			}
			if _, err := o.Decode(context.Background(), c.Request); err != nil {
				t.Errorf("%s, %s: the function refuses %s: %v", o.Function(), form, c.Request, err)
			}
		}
	}
}

func indent(b []byte) string {
	var out bytes.Buffer
	_ = json.Indent(&out, b, "", "  ")
	return out.String()
}

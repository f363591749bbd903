package command

import "testing"

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain ASCII is untouched", `create f a=1 b="x y" c='z'`, `create f a=1 b="x y" c='z'`},
		// Chinese input methods (Sogou, Microsoft Pinyin) in Chinese mode.
		{"full-width = , : [ ] { }", "a＝1 ｛“k”：［1，2］｝", `a=1 {"k":[1,2]}`},
		{"ideographic space", "create\u3000f\u3000a=1", "create f a=1"},
		{"【 】 for [ ]", "pool.members【0】.role=master", "pool.members[0].role=master"},
		{"full-width letters and digits (Japanese IME)", "ｃｒｅａｔｅ ｆ ｐｏｒｔ＝８０", "create f port=80"},
		{"full-width quotes", "a=＂x y＂ b=＇z＇", `a="x y" b='z'`},
		{"corner brackets as quotes", "a=「负载 均衡」", `a="负载 均衡"`},
		{"corner brackets escape what they hold", `a=「say "hi" \ 」`, `a="say \"hi\" \\ "`},
		// iOS and macOS smart punctuation.
		{"curly double quotes", `name=“my pool”`, `name="my pool"`},
		{"closing curly quote on both ends", `name=”my pool”`, `name="my pool"`},
		{"curly single quotes", `name=‘my pool’`, `name='my pool'`},
		{"apostrophe inside a curly single quote", `d=‘don’t stop’`, `d='don’t stop'`},
		{"apostrophe in a bare word", `d=don’t`, `d=don't`},
		{"em dash for --", "create f —dry-run a=1", "create f --dry-run a=1"},
		{"en dash for --", "create f –dry-run", "create f --dry-run"},
		{"en dash and hyphen", "create f –-dry-run", "create f --dry-run"},
		{"Chinese IME double em dash", "create f ——dry-run", "create f --dry-run"},
		{"full-width hyphens", "create f －－dry-run", "create f --dry-run"},
		{"ASCII dashes kept", "create f --dry-run a=-5 ---x", "create f --dry-run a=-5 ---x"},
		{"dash inside a word kept", "name=a—b", "name=a—b"},
		{"no-break and thin spaces", "create\u00a0f\u202fa=1\u2009b=2", "create f a=1 b=2"},
		{"line breaks and tabs", "create f\n\ta=1\r\nb=2", "create f  a=1  b=2"},
		{"invisible characters dropped", "cre\u200bate f a\u200d=1\ufeff", "create f a=1"},
		{"invalid UTF-8", "a=\xff", "a=\uFFFD"},
		// What is quoted is the user's own text.
		{"Chinese punctuation kept inside quotes", `description="负载均衡，测试：一"`, `description="负载均衡，测试：一"`},
		{"curly-quoted text keeps its full-width", `description=“负载均衡，测试”`, `description="负载均衡，测试"`},
		{"spaces kept inside quotes", "a=\"x\u3000y\u00a0z\"", "a=\"x\u3000y\u00a0z\""},
		{"dash kept inside quotes", `a="—dry-run"`, `a="—dry-run"`},
		{"curly quotes inside ASCII quotes kept", `a="say “hi”"`, `a="say “hi”"`},
		{"escaped curly quote in JSON", `{“a”:“say \”hi\””}`, `{"a":"say \"hi\""}`},
		{"unterminated quote runs to the end", `a=“x y`, `a="x y`},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("%s: Normalize(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

package allow

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, want string // want: a piece of the error
	}{
		{"slack", "has no '='"},
		{"slack=U1", "has no ':'"},
		{":U1=*", "empty platform"},
		{"teams:U1=*", `unknown platform "teams"`},
		{"Slack:U1=*", `unknown platform "Slack"`},
		{"slack:=*", "empty user"},
		{"slack: =*", "empty user"},
		{"slack:U1=", "empty function"},
		{"slack:U1=a||b", "empty function"},
		{"slack:U1=a|", "empty function"},
		{"slack:U1=*,", "entry 2 is empty"},
		{",slack:U1=*", "entry 1 is empty"},
		{"slack:U1=*,,feishu:*=*", "entry 2 is empty"},
		{"slack:U1=*,slack:U1=a", "slack:U1 appears twice"},
		{"slack:U1:x=*", "a user with white space"},
		{"slack:U 1=*", "a user with white space"},
		{"slack:U1=a=b", "a function with white space"},
		{"slack:U1=a b", "a function with white space"},
	}
	for _, tt := range tests {
		l, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", tt.in, l)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), Variable) {
			t.Errorf("Parse(%q) error %q, want it to name %s and say %q", tt.in, err, Variable, tt.want)
		}
		if !l.Empty() {
			t.Errorf("Parse(%q) failed but returned a non-empty list", tt.in)
		}
	}
}

func TestAllows(t *testing.T) {
	const list = "slack:U0123=*, feishu:*=huawei-create-pool|huawei-create-lbaas-pool,dingtalk:manager1=ctyun-create-policy,wecom:*=*"
	l, err := Parse(list)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		platform, user, function string
		want                     bool
	}{
		{"slack", "U0123", "jdcloud-create-backend", true},
		{"slack", "U0123", "anything", true},
		{"slack", "U9999", "jdcloud-create-backend", false},
		{"slack", "u0123", "jdcloud-create-backend", false}, // users are case-sensitive ids
		{"feishu", "ou_1", "huawei-create-pool", true},
		{"feishu", "ou_2", "huawei-create-lbaas-pool", true},
		{"feishu", "ou_1", "huawei-create-master-slave-pool", false},
		{"dingtalk", "manager1", "ctyun-create-policy", true},
		{"dingtalk", "manager1", "huawei-create-pool", false},
		{"dingtalk", "other", "ctyun-create-policy", false},
		{"wecom", "zhangsan", "jdcloud-create-backend", true},
		{"wecom", "", "jdcloud-create-backend", false},
		{"wecom", "zhangsan", "", false},
		{"", "U0123", "jdcloud-create-backend", false},
		{"teams", "U0123", "jdcloud-create-backend", false},
		// A platform's user name does not carry over to another platform.
		{"feishu", "U0123", "jdcloud-create-backend", false},
	}
	for _, tt := range tests {
		if got := l.Allows(tt.platform, tt.user, tt.function); got != tt.want {
			t.Errorf("Allows(%q, %q, %q) = %v, want %v", tt.platform, tt.user, tt.function, got, tt.want)
		}
	}
}

func TestEmptyAllowsNobody(t *testing.T) {
	for _, in := range []string{"", "  ", "\t\n"} {
		l, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if !l.Empty() {
			t.Errorf("Parse(%q) is not empty", in)
		}
		for _, p := range Platforms {
			if l.Allows(p, "*", "*") || l.Allows(p, "U1", "jdcloud-create-backend") {
				t.Errorf("Parse(%q) allows something on %s", in, p)
			}
		}
	}
	var zero List
	if !zero.Empty() || zero.Allows("slack", "U1", "x") {
		t.Error("the zero List allows something")
	}
	l, _ := Parse("slack:U1=*")
	if l.Empty() {
		t.Error("a one-entry list is empty")
	}
}

func TestWildcardIsNotAUser(t *testing.T) {
	// "*" in a request is a user named "*", which only an entry for any user lets in.
	l, _ := Parse("slack:U1=*")
	if l.Allows("slack", "*", "jdcloud-create-backend") {
		t.Error(`user "*" allowed by an entry for U1`)
	}
}

func TestUnknown(t *testing.T) {
	l, err := Parse("slack:U1=huawei-create-pool|huawei-create-pol,feishu:*=*,wecom:a=jd-create|huawei-create-pol")
	if err != nil {
		t.Fatal(err)
	}
	got := l.Unknown([]string{"huawei-create-pool", "jdcloud-create-backend"})
	if want := []string{"huawei-create-pol", "jd-create"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Unknown = %v, want %v", got, want)
	}
}

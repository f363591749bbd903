package audit

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/devserver"
	"github.com/lbfn/lbfn/shared/emulator"
)

const jd = `{"regionId":"cn-north-1","backendName":"NAME","loadBalancerId":"nlb-example","protocol":"Tcp","port":80,"healthCheckSpec":{"protocol":"Tcp"}}`
const hw = `{"region":"cn-north-4","projectId":"0123456789abcdef0123456789abcdef","pool":{"name":"NAME","lb_algorithm":"ROUND_ROBIN","loadbalancer_id":"63ad9dfe-4750-479f-9630-ada43ccc8117","protocol":"HTTP"}}`
const ct = `{"regionID":"81f7728662dd11ec810800155d307d5b","listenerID":"lb-ai7x5ulq4t","name":"NAME","targetGroup":{"name":"test","algorithm":"rr"},"conditions":[{"ruleType":"PATH","matchType":"STARTS_WITH","matchValue":"/foo"}]}`

func TestKinds(t *testing.T) {
	os.Setenv("LBFN_MAX_ATTEMPTS", "2")
	os.Setenv("LBFN_RETRY_INITIAL_INTERVAL", "1ms")
	os.Setenv("LBFN_RETRY_MAX_INTERVAL", "2ms")
	os.Setenv("LBFN_HTTP_TIMEOUT", "300ms")
	os.Setenv("LBFN_REQUEST_TIMEOUT", "2s")
	os.Setenv("LBFN_CTYUN_POLL_FIRST", "10ms")
	os.Setenv("LBFN_CTYUN_POLL_MAX", "20ms")
	for _, k := range []string{"JDCLOUD_ACCESS_KEY", "JDCLOUD_SECRET_KEY", "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "CTYUN_AK", "CTYUN_SK"} {
		os.Unsetenv(k)
	}
	srv, err := devserver.Start(devserver.Config{Addr: "127.0.0.1:0", EmulatorAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	emu := srv.Emulator
	post := func(fn, body string) (int, string) {
		resp, err := http.Post(srv.URL+"/"+fn, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	n := 0
	name := func() string { n++; return "audit-" + time.Now().Format("150405") + "-" + string(rune('a'+n)) }
	cases := []struct {
		label string
		setup func()
		fn    string
		body  string
		want  int
		kind  string
	}{
		{"jd 429 throttled", func() { emu.Inject(emulator.Fault{Provider: "jdcloud", Status: 429}, emulator.Fault{Provider: "jdcloud", Status: 429}) }, "jdcloud-create-backend", jd, 429, "throttled"},
		{"jd 503", func() { emu.Inject(emulator.Fault{Provider: "jdcloud", Status: 503}, emulator.Fault{Provider: "jdcloud", Status: 503}) }, "jdcloud-create-backend", jd, 503, "unavailable"},
		{"jd notfound", func() { emu.MarkJDCloudMissing("nlb-gone") }, "jdcloud-create-backend", strings.Replace(jd, "nlb-example", "nlb-gone", 1), 404, "not_found"},
		{"jd quota", func() { emu.SetJDCloudQuota(1) }, "jdcloud-create-backend", strings.Replace(jd, "nlb-example", "nlb-q", 1), 201, ""},
		{"jd quota2", nil, "jdcloud-create-backend", strings.Replace(jd, "nlb-example", "nlb-q", 1), 409, "quota"},
		{"hw conflict-ish quota", func() { emu.SetHuaweiQuota(0) }, "huawei-create-pool", hw, 409, "quota"},
		{"hw 504 timeout", func() {
			emu.SetHuaweiQuota(-1)
			emu.Inject(emulator.Fault{Provider: "huaweicloud", Latency: 3 * time.Second})
		}, "huawei-create-pool", hw, 504, "timeout"},
		{"hw missing", func() { emu.SetHuaweiMissing("11111111-4750-479f-9630-ada43ccc8117") }, "huawei-create-pool", strings.Replace(hw, "63ad9dfe", "11111111", 1), 404, "not_found"},
		{"ct 502", func() { emu.Inject(emulator.Fault{Provider: "ctyun", Status: 502}, emulator.Fault{Provider: "ctyun", Status: 502}) }, "ctyun-create-policy", ct, 503, "unavailable"},
	}
	for _, c := range cases {
		if c.setup != nil {
			c.setup()
		}
		body := strings.ReplaceAll(c.body, "NAME", name())
		st, b := post(c.fn, body)
		ok := st == c.want && (c.kind == "" || strings.Contains(b, `"kind":"`+c.kind+`"`))
		t.Logf("%v %s: %d %s", ok, c.label, st, b)
		if !ok {
			t.Errorf("%s: want %d %s", c.label, c.want, c.kind)
		}
	}
}

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

func TestTimeoutKind(t *testing.T) {
	if os.Getenv("AUDIT_TIMEOUT") == "" {
		t.Skip()
	}
	os.Setenv("LBFN_HTTP_TIMEOUT", "10s")
	os.Setenv("LBFN_REQUEST_TIMEOUT", "1500ms")
	for _, k := range []string{"JDCLOUD_ACCESS_KEY", "JDCLOUD_SECRET_KEY", "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "CTYUN_AK", "CTYUN_SK"} {
		os.Unsetenv(k)
	}
	srv, err := devserver.Start(devserver.Config{Addr: "127.0.0.1:0", EmulatorAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ fn, body, prov string }{{"jdcloud-create-backend", jd, "jdcloud"}, {"huawei-create-pool", hw, "huaweicloud"}, {"ctyun-create-policy", ct, "ctyun"}} {
		srv.Emulator.Inject(emulator.Fault{Provider: c.prov, Latency: 5 * time.Second})
		resp, err := http.Post(srv.URL+"/"+c.fn, "application/json", strings.NewReader(strings.ReplaceAll(c.body, "NAME", "tmo-"+c.prov)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Logf("%s: %d %s", c.fn, resp.StatusCode, b)
	}
}

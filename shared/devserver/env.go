package devserver

import (
	"os"

	"github.com/lbfn/lbfn/shared/emulator"
)

// Provider names the environment variables through which one provider's functions find
// their cloud: the credentials that say "use the real cloud", and what must be set to use the
// emulator instead.
type Provider struct {
	// Name is the provider's name in results: "jdcloud", "huaweicloud", "ctyun".
	Name string
	// Title is how the banner names it.
	Title string
	// AccessKeyVar and SecretKeyVar are the credential variables.
	AccessKeyVar, SecretKeyVar string
	// EndpointVar is the base URL variable.
	EndpointVar string
	// Set are further variables and their values when emulated.
	Set map[string]string
	// Unset are variables removed when emulated (a real cloud's temporary token would make
	// the emulator refuse every request).
	Unset []string
}

// Providers lists the three clouds, in the order of the README's function table.
var Providers = []Provider{
	{
		Name: "jdcloud", Title: "JD Cloud LB",
		AccessKeyVar: "JDCLOUD_ACCESS_KEY", SecretKeyVar: "JDCLOUD_SECRET_KEY",
		EndpointVar: "JDCLOUD_LB_ENDPOINT",
	},
	{
		Name: "huaweicloud", Title: "Huawei Cloud ELB",
		AccessKeyVar: "HUAWEICLOUD_SDK_AK", SecretKeyVar: "HUAWEICLOUD_SDK_SK",
		EndpointVar: "HUAWEICLOUD_ELB_ENDPOINT",
		Set:         map[string]string{"HUAWEICLOUD_SDK_PROJECT_ID": emulator.DemoProjectID},
		Unset:       []string{"HUAWEICLOUD_SDK_SECURITY_TOKEN"},
	},
	{
		Name: "ctyun", Title: "CTyun ELB",
		AccessKeyVar: "CTYUN_AK", SecretKeyVar: "CTYUN_SK",
		EndpointVar: "CTYUN_ELB_ENDPOINT",
	},
}

// Configured reports whether the environment holds credentials for p: either of its two
// variables set counts, so a half-configured real cloud is reported by the function (a config
// error naming the missing variable) rather than silently replaced by the emulator.
func (p Provider) Configured(getenv func(string) string) bool {
	return getenv(p.AccessKeyVar) != "" || getenv(p.SecretKeyVar) != ""
}

// EmulatorEnv returns the variables that point p at an emulator serving at baseURL with the
// demo credentials; a value of "" means "remove the variable".
func (p Provider) EmulatorEnv(baseURL string) map[string]string {
	env := map[string]string{
		p.AccessKeyVar: emulator.DemoAccessKey,
		p.SecretKeyVar: emulator.DemoSecretKey,
		p.EndpointVar:  baseURL,
	}
	for k, v := range p.Set {
		env[k] = v
	}
	for _, k := range p.Unset {
		env[k] = ""
	}
	return env
}

// Emulated returns the providers that have no credentials in the environment getenv reads,
// and the variables that point them at the emulator serving at baseURL ("" values mean
// "remove the variable").
func Emulated(baseURL string, getenv func(string) string) ([]Provider, map[string]string) {
	var emulated []Provider
	env := map[string]string{}
	for _, p := range Providers {
		if p.Configured(getenv) {
			continue
		}
		emulated = append(emulated, p)
		for k, v := range p.EmulatorEnv(baseURL) {
			env[k] = v
		}
	}
	return emulated, env
}

// applyEnv sets (or, for "", removes) each variable in this process's environment.
func applyEnv(env map[string]string) error {
	for k, v := range env {
		var err error
		if v == "" {
			err = os.Unsetenv(k)
		} else {
			err = os.Setenv(k, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

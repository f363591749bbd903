package huaweicloud_test

import (
	"slices"
	"strings"

	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/op"
)

func init() { ruleTables = append(ruleTables, poolRules) }

// poolRules are the rules of the three pool APIs, which share the body key "pool" and most of
// their rules.
var poolRules = ruleTable{
	title: "Pools",
	key:   "pool",
	apis: []ruleAPI{
		{v2, "huawei-create-pool", `{"region":"cn-north-4","projectId":"` + demoProject + `","pool":{"protocol":"HTTP","lb_algorithm":"ROUND_ROBIN","loadbalancer_id":"lb-1"}}`},
		{lbaas, "huawei-create-lbaas-pool", `{"region":"cn-north-4","projectId":"` + demoProject + `","pool":{"protocol":"HTTP","lb_algorithm":"ROUND_ROBIN","loadbalancer_id":"lb-1"}}`},
		{v3, "huawei-create-master-slave-pool", `{"region":"cn-north-4","projectId":"` + demoProject + `","pool":{"protocol":"TCP","lb_algorithm":"ROUND_ROBIN","type":"ip","loadbalancer_id":"lb-1",` +
			`"members":[{"address":"10.0.0.1","protocol_port":80,"role":"master"},{"address":"10.0.0.2","protocol_port":80,"role":"slave"}],` +
			`"healthmonitor":{"delay":5,"max_retries":3,"timeout":3,"type":"TCP"}}}`},
	},
	intro: "APIs: `v2` = `POST /v2/{project_id}/elb/pools`, `v2.0` = `POST /v2.0/lbaas/pools`,\n`v3` = `POST /v3/{project_id}/elb/master-slave-pools`.\n\n" +
		"Sources: the pages of Huawei Cloud's Elastic Load Balance (ELB) API reference, by API: `v2 page`\n" +
		"is \"创建后端云服务器组\" (`POST /v2/{project_id}/elb/pools`), `v2.0 page` is \"创建后端云服务器组\" of the\n" +
		"Neutron-LBaaS-style v2.0 API (`POST /v2.0/lbaas/pools`), `v3 page` is \"创建主备后端服务器组\"\n" +
		"(`POST /v3/{project_id}/elb/master-slave-pools`); a table number (表4) is the page's. `ELB API\n" +
		"reference` is a rule that reference states beside those pages' parameter tables (their required\n" +
		"columns, or the same object on a related page). `Huawei's region ids` are the reference's region\n" +
		"names (`cn-north-4`, `ap-southeast-1`). `README.md (Functions)` is lbfn's own request format.",
	bodySource: srcV20 + " (表1)",
	cases:      poolCases,
}

// bases are the pool APIs' valid requests by short name, and ops their operations, for the
// pool tests beside the rules (client_test.go, fuzz_test.go, bench_test.go).
var bases, ops = func() (map[string]string, map[string]op.Operation) {
	bases, ops := map[string]string{}, map[string]op.Operation{}
	for _, a := range poolRules.apis {
		bases[a.name] = a.base
		ops[a.name], _ = catalog.Lookup(a.function)
	}
	return bases, ops
}()

// The three APIs, by the short names the cases use.
const (
	v2    = "v2"
	lbaas = "v2.0"
	v3    = "v3"
)

var (
	all     = []string{v2, lbaas, v3}
	v2s     = []string{v2, lbaas}
	onlyV2  = []string{v2}
	onlyV20 = []string{lbaas}
	onlyV3  = []string{v3}
)

// Where the pool rules come from (poolRules.intro names each in full).
const (
	srcRef = "ELB API reference"
	srcV2  = "v2 page"
	srcV20 = "v2.0 page"
	srcV3  = "v3 page"
)

// quic turns the v3 base into a valid QUIC pool.
var quic = edits(set("pool.protocol", "QUIC"), set("pool.healthmonitor.type", "UDP_CONNECT"),
	set("pool.session_persistence", obj{"type": "SOURCE_IP"}))

func with(base []edit, more ...edit) []edit { return append(slices.Clip(base), more...) }

// poolCases follow the rules every operation shares (routingCases).
var poolCases = []ruleCase{
	{"json-types", "values have the documented JSON types", srcReadme, all,
		nil, edits(set("pool.protocol", 6), set("pool.lb_algorithm", true)), []string{"pool.lb_algorithm", "pool.protocol"}},
	{"all-together", "every violation is reported together", srcReadme, v2s,
		nil, edits(del("region"), set("pool.protocol", "QUIC"), del("pool.loadbalancer_id"), set("pool.name", strings.Repeat("n", 256))),
		[]string{"pool.listener_id", "pool.name", "pool.protocol", "region"}},

	// Both v2 APIs.
	{"v2-protocol-required", "`protocol` is required", srcV2 + ", " + srcV20, v2s, nil, edits(del("pool.protocol")), []string{"pool.protocol"}},
	{"v2-protocol-enum", "`protocol` is TCP, UDP or HTTP", srcV2 + ", " + srcV20, v2s,
		edits(set("pool.protocol", "UDP")), edits(set("pool.protocol", "QUIC")), []string{"pool.protocol"}},
	{"v2-algorithm-required", "`lb_algorithm` is required", srcV2 + ", " + srcV20, v2s, nil, edits(del("pool.lb_algorithm")), []string{"pool.lb_algorithm"}},
	{"v2-algorithm-enum", "`lb_algorithm` is ROUND_ROBIN, LEAST_CONNECTIONS or SOURCE_IP", srcV2 + ", " + srcV20, v2s,
		edits(set("pool.lb_algorithm", "SOURCE_IP")), edits(set("pool.lb_algorithm", "QUIC_CID")), []string{"pool.lb_algorithm"}},
	{"v2-listener-or-loadbalancer", "at least one of `listener_id`, `loadbalancer_id` (the first is named)", srcV2 + ", " + srcV20, v2s,
		edits(del("pool.loadbalancer_id"), set("pool.listener_id", "l-1")), edits(del("pool.loadbalancer_id")), []string{"pool.listener_id"}},
	{"v2-name-length", "`name` at most 255 characters", srcV2 + ", " + srcV20, v2s,
		edits(set("pool.name", strings.Repeat("名", 255))), edits(set("pool.name", strings.Repeat("n", 256))), []string{"pool.name"}},
	{"v2-description-length", "`description` at most 255 characters", srcV2 + ", " + srcV20, v2s,
		edits(set("pool.description", strings.Repeat("d", 255))), edits(set("pool.description", strings.Repeat("d", 256))), []string{"pool.description"}},
	{"v2-tenant-id-length", "`tenant_id` at most 255 characters", srcV2 + ", " + srcV20, v2s,
		edits(set("pool.tenant_id", demoProject)), edits(set("pool.tenant_id", strings.Repeat("t", 256))), []string{"pool.tenant_id"}},
	{"lbaas-project-id-length", "`project_id` at most 255 characters", srcV20, onlyV20,
		edits(set("pool.project_id", demoProject)), edits(set("pool.project_id", strings.Repeat("p", 256))), []string{"pool.project_id"}},
	{"v2-admin-state-up-type", "`admin_state_up` is a boolean", srcV2 + ", " + srcV20, v2s,
		edits(set("pool.admin_state_up", false)), edits(set("pool.admin_state_up", "true")), []string{"pool.admin_state_up"}},
	{"v2-protection-status-enum", "`protection_status` is nonProtection or consoleProtection", srcV2, onlyV2,
		edits(set("pool.protection_status", "consoleProtection")), edits(set("pool.protection_status", "protected")), []string{"pool.protection_status"}},
	{"v2-protection-reason-console-only", "`protection_reason` only with consoleProtection", srcV2, onlyV2,
		edits(set("pool.protection_status", "consoleProtection"), set("pool.protection_reason", "audit")),
		edits(set("pool.protection_status", "nonProtection"), set("pool.protection_reason", "audit")), []string{"pool.protection_reason"}},
	{"v2-protection-reason-length", "`protection_reason` at most 255 characters", srcRef, onlyV2,
		edits(set("pool.protection_status", "consoleProtection"), set("pool.protection_reason", strings.Repeat("r", 255))),
		edits(set("pool.protection_status", "consoleProtection"), set("pool.protection_reason", strings.Repeat("r", 256))), []string{"pool.protection_reason"}},

	// Session persistence, the same code on the three APIs.
	{"sp-null-is-off", "`session_persistence` null means off; `type` is required when present", srcV2 + ", " + srcV20, all,
		edits(set("pool.session_persistence", nil)), edits(set("pool.session_persistence", obj{})), []string{"pool.session_persistence.type"}},
	{"sp-type-enum", "`session_persistence.type` is SOURCE_IP, HTTP_COOKIE or APP_COOKIE", srcV2 + ", " + srcV20 + ", " + srcV3, all,
		edits(set("pool.session_persistence", obj{"type": "SOURCE_IP"})), edits(set("pool.session_persistence", obj{"type": "COOKIE"})),
		[]string{"pool.session_persistence.type"}},
	{"sp-cookie-required", "`cookie_name` is required with APP_COOKIE", srcV2 + ", " + srcV20 + ", " + srcV3, all,
		edits(set("pool.session_persistence", obj{"type": "APP_COOKIE", "cookie_name": "my_cookie"})),
		edits(set("pool.session_persistence", obj{"type": "APP_COOKIE"})), []string{"pool.session_persistence.cookie_name"}},
	{"sp-cookie-forbidden", "`cookie_name` is forbidden unless type is APP_COOKIE", srcV2 + ", " + srcV20 + ", " + srcV3, all,
		edits(set("pool.session_persistence", obj{"type": "HTTP_COOKIE"})),
		edits(set("pool.session_persistence", obj{"type": "HTTP_COOKIE", "cookie_name": "c"})), []string{"pool.session_persistence.cookie_name"}},
	{"sp-cookie-v2-charset", "`cookie_name`: letters, digits, `-` and `_`", srcV2 + " (表4)", v2s,
		edits(set("pool.session_persistence", obj{"type": "APP_COOKIE", "cookie_name": "my-cookie_1"})),
		edits(set("pool.session_persistence", obj{"type": "APP_COOKIE", "cookie_name": "my cookie!"})), []string{"pool.session_persistence.cookie_name"}},
	{"sp-cookie-v2-length", "`cookie_name` at most 64 characters", srcV2 + " (表4)", v2s,
		edits(set("pool.session_persistence", obj{"type": "APP_COOKIE", "cookie_name": strings.Repeat("c", 64)})),
		edits(set("pool.session_persistence", obj{"type": "APP_COOKIE", "cookie_name": strings.Repeat("c", 65)})), []string{"pool.session_persistence.cookie_name"}},
	{"sp-cookie-v3-length", "`cookie_name` at most 1024 characters (any characters)", srcV3 + " (表5)", onlyV3,
		edits(set("pool.session_persistence", obj{"type": "APP_COOKIE", "cookie_name": "my.cookie" + strings.Repeat("c", 1015)})),
		edits(set("pool.session_persistence", obj{"type": "APP_COOKIE", "cookie_name": strings.Repeat("c", 1025)})), []string{"pool.session_persistence.cookie_name"}},
	{"sp-timeout-http", "`persistence_timeout` 1–1440 for HTTP pools", srcV20 + " (表3)", v2s,
		edits(set("pool.session_persistence", obj{"type": "HTTP_COOKIE", "persistence_timeout": 1440})),
		edits(set("pool.session_persistence", obj{"type": "HTTP_COOKIE", "persistence_timeout": 1441})), []string{"pool.session_persistence.persistence_timeout"}},
	{"sp-timeout-tcp", "`persistence_timeout` 1–60 for TCP/UDP pools", srcV20 + " (表3), " + srcV3, all,
		edits(set("pool.protocol", "TCP"), set("pool.session_persistence", obj{"type": "SOURCE_IP", "persistence_timeout": 60})),
		edits(set("pool.protocol", "TCP"), set("pool.session_persistence", obj{"type": "SOURCE_IP", "persistence_timeout": 61})),
		[]string{"pool.session_persistence.persistence_timeout"}},
	{"sp-timeout-app-cookie", "`persistence_timeout` is accepted with APP_COOKIE (no effect), range still checked", srcV20 + " (its request example)", all,
		edits(set("pool.session_persistence", obj{"type": "APP_COOKIE", "cookie_name": "c", "persistence_timeout": 1})),
		edits(set("pool.session_persistence", obj{"type": "APP_COOKIE", "cookie_name": "c", "persistence_timeout": 0})),
		[]string{"pool.session_persistence.persistence_timeout"}},

	// v3 master-slave pools.
	{"v3-protocol-required", "`protocol` is required", srcV3 + " (表4)", onlyV3, nil, edits(del("pool.protocol")), []string{"pool.protocol"}},
	{"v3-protocol-enum", "`protocol` is TCP, UDP, QUIC or TLS", srcV3 + " (表4)", onlyV3,
		edits(set("pool.protocol", "TLS")), edits(set("pool.protocol", "HTTP")), []string{"pool.protocol"}},
	{"v3-algorithm-required", "`lb_algorithm` is required", srcV3 + " (表4)", onlyV3, nil, edits(del("pool.lb_algorithm")), []string{"pool.lb_algorithm"}},
	{"v3-algorithm-enum", "`lb_algorithm` is ROUND_ROBIN, LEAST_CONNECTIONS, SOURCE_IP or QUIC_CID", srcV3 + " (表4)", onlyV3,
		edits(set("pool.lb_algorithm", "LEAST_CONNECTIONS")), edits(set("pool.lb_algorithm", "RANDOM")), []string{"pool.lb_algorithm"}},
	{"v3-quic-cid-needs-quic", "`QUIC_CID` only with protocol QUIC", srcRef, onlyV3,
		with(quic, set("pool.lb_algorithm", "QUIC_CID")), edits(set("pool.lb_algorithm", "QUIC_CID")), []string{"pool.lb_algorithm"}},
	{"v3-listener-loadbalancer-or-type", "at least one of `listener_id`, `loadbalancer_id`, `type` (the first is named)", srcV3 + " (表4)", onlyV3,
		edits(del("pool.loadbalancer_id")), edits(del("pool.loadbalancer_id"), del("pool.type")), []string{"pool.listener_id"}},
	{"v3-type-enum", "`type` is instance or ip", srcV3 + " (表4)", onlyV3,
		edits(set("pool.type", "instance"), set("pool.vpc_id", "vpc-1")), edits(set("pool.type", "any")), []string{"pool.type"}},
	{"v3-instance-needs-vpc", "type instance ⇒ `vpc_id` required", srcV3 + " (表4)", onlyV3,
		edits(set("pool.type", "instance"), set("pool.vpc_id", "vpc-1")), edits(set("pool.type", "instance")), []string{"pool.vpc_id"}},
	{"v3-ip-forbids-vpc", "type ip ⇒ `vpc_id` forbidden (vpc_id needs type instance)", srcV3 + " (表4)", onlyV3,
		nil, edits(set("pool.vpc_id", "vpc-1")), []string{"pool.vpc_id"}},
	{"v3-project-id-format", "`project_id` is 32 lower-case letters and digits", srcV3 + " (表4)", onlyV3,
		edits(set("pool.project_id", demoProject)), edits(set("pool.project_id", "p-1")), []string{"pool.project_id"}},
	{"v3-ip-version-enum", "`ip_version` is v4 or dualstack", srcV3 + " (表4)", onlyV3,
		edits(set("pool.ip_version", "dualstack")), edits(set("pool.ip_version", "v6")), []string{"pool.ip_version"}},
	{"v3-members-required", "`members` is required", srcRef, onlyV3, nil, edits(del("pool.members")), []string{"pool.members"}},
	{"v3-members-two", "exactly 2 members", srcV3 + " (表4)", onlyV3,
		nil, edits(del("pool.members[1]")), []string{"pool.members"}},
	{"v3-master-and-slave", "one member `master`, one `slave`", srcV3 + " (表4)", onlyV3,
		edits(set("pool.members[0].role", "slave"), set("pool.members[1].role", "master")),
		edits(set("pool.members[1].role", "master")), []string{"pool.members[1].role"}},
	{"v3-role-enum", "`role` is required: master or slave", srcV3 + " (表6)", onlyV3,
		nil, edits(set("pool.members[0].role", "backup"), del("pool.members[1].role")), []string{"pool.members[0].role", "pool.members[1].role"}},
	{"v3-address-required", "member `address` is required", srcRef, onlyV3, nil, edits(del("pool.members[0].address")), []string{"pool.members[0].address"}},
	{"v3-address-private-ipv4", "`address` is a private IPv4 when `subnet_cidr_id` is empty", srcV3 + " (表6)", onlyV3,
		edits(set("pool.members[0].address", "172.16.0.210"), set("pool.members[1].address", "192.168.1.2")),
		edits(set("pool.members[0].address", "120.10.10.16"), set("pool.members[1].address", "fd00::1")),
		[]string{"pool.members[0].address", "pool.members[1].address"}},
	{"v3-address-with-subnet", "with `subnet_cidr_id`, `address` is a private IPv4 or IPv6 address", srcV3 + " (表6)", onlyV3,
		edits(set("pool.members[0].subnet_cidr_id", "s-1"), set("pool.members[0].address", "fd00::1")),
		edits(set("pool.members[0].subnet_cidr_id", "s-1"), set("pool.members[0].address", "host.local")), []string{"pool.members[0].address"}},
	{"v3-address-with-subnet-not-public", "with `subnet_cidr_id`, a public IPv4 `address` is refused", srcV3 + " (表6)", onlyV3,
		edits(set("pool.members[0].subnet_cidr_id", "s-1"), set("pool.members[0].address", "10.1.2.3")),
		edits(set("pool.members[0].subnet_cidr_id", "s-1"), set("pool.members[0].address", "120.10.10.16")), []string{"pool.members[0].address"}},
	{"v3-port-range", "`protocol_port` 1–65535", srcRef, onlyV3,
		edits(set("pool.members[0].protocol_port", 65535)), edits(set("pool.members[0].protocol_port", 0)), []string{"pool.members[0].protocol_port"}},
	{"v3-port-required", "`protocol_port` required unless `any_port_enable`", srcRef + ", " + srcV3 + " (表6)", onlyV3,
		edits(del("pool.members[0].protocol_port"), set("pool.any_port_enable", true)), edits(del("pool.members[0].protocol_port")),
		[]string{"pool.members[0].protocol_port"}},
	{"v3-any-port-layer4", "`any_port_enable` only for QUIC, TCP and UDP pools", srcV3 + " (表4)", onlyV3,
		edits(set("pool.any_port_enable", true)), edits(set("pool.protocol", "TLS"), set("pool.any_port_enable", true)), []string{"pool.any_port_enable"}},
	{"v3-healthmonitor-required", "`healthmonitor` is required", srcRef, onlyV3, nil, edits(del("pool.healthmonitor")), []string{"pool.healthmonitor"}},
	{"v3-hm-delay-required", "`healthmonitor.delay` is required", srcRef, onlyV3, nil, edits(del("pool.healthmonitor.delay")), []string{"pool.healthmonitor.delay"}},
	{"v3-hm-delay-range", "`healthmonitor.delay` 1–50", srcV3 + " (表7)", onlyV3,
		edits(set("pool.healthmonitor.delay", 50)), edits(set("pool.healthmonitor.delay", 51)), []string{"pool.healthmonitor.delay"}},
	{"v3-hm-retries-required", "`healthmonitor.max_retries` is required", srcRef, onlyV3, nil, edits(del("pool.healthmonitor.max_retries")), []string{"pool.healthmonitor.max_retries"}},
	{"v3-hm-retries-range", "`healthmonitor.max_retries` 1–10", srcV3 + " (表7)", onlyV3,
		edits(set("pool.healthmonitor.max_retries", 10)), edits(set("pool.healthmonitor.max_retries", 0)), []string{"pool.healthmonitor.max_retries"}},
	{"v3-hm-timeout-required", "`healthmonitor.timeout` is required", srcRef, onlyV3, nil, edits(del("pool.healthmonitor.timeout")), []string{"pool.healthmonitor.timeout"}},
	{"v3-hm-timeout-range", "`healthmonitor.timeout` 1–50", srcRef, onlyV3,
		edits(set("pool.healthmonitor.timeout", 50)), edits(set("pool.healthmonitor.timeout", 51)), []string{"pool.healthmonitor.timeout"}},
	{"v3-hm-type-enum", "`healthmonitor.type` is required: TCP, UDP_CONNECT, HTTP or HTTPS", srcV3 + " (表7)", onlyV3,
		edits(set("pool.healthmonitor.type", "HTTPS")), edits(set("pool.healthmonitor.type", "PING")), []string{"pool.healthmonitor.type"}},
	{"v3-hm-type-udp", "UDP and QUIC pools: `healthmonitor.type` only UDP_CONNECT", srcV3 + " (表7)", onlyV3,
		edits(set("pool.protocol", "UDP"), set("pool.healthmonitor.type", "UDP_CONNECT")),
		edits(set("pool.protocol", "UDP")), []string{"pool.healthmonitor.type"}},
	{"v3-hm-type-quic", "QUIC pools: `healthmonitor.type` only UDP_CONNECT", srcV3 + " (表7)", onlyV3,
		quic, with(quic, set("pool.healthmonitor.type", "HTTP")), []string{"pool.healthmonitor.type"}},
	{"v3-hm-type-tcp", "TCP pools: `healthmonitor.type` TCP, HTTP or HTTPS", srcV3 + " (表7)", onlyV3,
		edits(set("pool.healthmonitor.type", "HTTP")), edits(set("pool.healthmonitor.type", "UDP_CONNECT")), []string{"pool.healthmonitor.type"}},
	{"v3-hm-retries-down-range", "`healthmonitor.max_retries_down` 1–10", srcV3 + " (表7)", onlyV3,
		edits(set("pool.healthmonitor.max_retries_down", 1)), edits(set("pool.healthmonitor.max_retries_down", 11)), []string{"pool.healthmonitor.max_retries_down"}},
	{"v3-hm-monitor-port-range", "`healthmonitor.monitor_port` 1–65535", srcV3 + " (表7)", onlyV3,
		edits(set("pool.healthmonitor.monitor_port", 8080)), edits(set("pool.healthmonitor.monitor_port", 65536)), []string{"pool.healthmonitor.monitor_port"}},
	{"v3-hm-http-method-enum", "`healthmonitor.http_method` is GET, HEAD or POST", srcV3 + " (表7)", onlyV3,
		edits(set("pool.healthmonitor.http_method", "HEAD")), edits(set("pool.healthmonitor.http_method", "get")), []string{"pool.healthmonitor.http_method"}},
	{"v3-hm-url-path-slash", "`healthmonitor.url_path` starts with `/`", srcV3 + " (表7)", onlyV3,
		edits(set("pool.healthmonitor.url_path", "/health?probe#x&[a]")), edits(set("pool.healthmonitor.url_path", "health")), []string{"pool.healthmonitor.url_path"}},
	{"v3-hm-url-path-charset", "`healthmonitor.url_path` characters: letters, digits and `-/.%?#&_;~!()*[]@$^:',+`", srcV3 + " (表7)", onlyV3,
		edits(set("pool.healthmonitor.url_path", "/a-b_c;~!()*@$^:',+%20")), edits(set("pool.healthmonitor.url_path", "/a b")), []string{"pool.healthmonitor.url_path"}},
	{"v3-hm-domain-name", "`healthmonitor.domain_name` starts with a letter or digit; letters, digits, `-`, `.`", srcV3 + " (表7)", onlyV3,
		edits(set("pool.healthmonitor.domain_name", "www.example-1.com")), edits(set("pool.healthmonitor.domain_name", "-bad_name")), []string{"pool.healthmonitor.domain_name"}},
	{"v3-hm-expected-codes", "`healthmonitor.expected_codes` like 200, 200,202 or 200-204", srcV3 + " (表7)", onlyV3,
		edits(set("pool.healthmonitor.expected_codes", "200,202,300-304")), edits(set("pool.healthmonitor.expected_codes", "2xx")), []string{"pool.healthmonitor.expected_codes"}},
	{"v3-hm-expected-codes-range", "`healthmonitor.expected_codes` ranges run upwards", srcV3 + " (表7)", onlyV3,
		edits(set("pool.healthmonitor.expected_codes", "200-204")), edits(set("pool.healthmonitor.expected_codes", "204-200")), []string{"pool.healthmonitor.expected_codes"}},
	{"v3-quic-needs-persistence", "QUIC pools require `session_persistence`", srcV3 + " (表5)", onlyV3,
		quic, with(quic, del("pool.session_persistence")), []string{"pool.session_persistence"}},
	{"v3-quic-needs-source-ip", "QUIC pools require session persistence type SOURCE_IP", srcV3 + " (表5)", onlyV3,
		quic, with(quic, set("pool.session_persistence", obj{"type": "HTTP_COOKIE"})), []string{"pool.session_persistence.type"}},
	{"v3-drain-timeout-required", "`connection_drain.timeout` required when `enable` is true", srcRef, onlyV3,
		edits(set("pool.connection_drain", obj{"enable": true, "timeout": 300})), edits(set("pool.connection_drain", obj{"enable": true})),
		[]string{"pool.connection_drain.timeout"}},
	{"v3-drain-timeout-range", "`connection_drain.timeout` 10–4000 seconds", srcV3 + " (表8)", onlyV3,
		edits(set("pool.connection_drain", obj{"enable": false, "timeout": 4000})), edits(set("pool.connection_drain", obj{"enable": true, "timeout": 9})),
		[]string{"pool.connection_drain.timeout"}},
	{"v3-drain-layer4", "`connection_drain` only for TCP, UDP and QUIC pools", srcV3 + " (表4)", onlyV3,
		with(quic, set("pool.connection_drain", obj{"enable": true, "timeout": 10})),
		edits(set("pool.protocol", "TLS"), set("pool.connection_drain", obj{"enable": true, "timeout": 10})), []string{"pool.connection_drain"}},
	{"v3-quic-cid-strategy-algorithm", "`quic_cid_hash_strategy` only with lb_algorithm QUIC_CID", srcV3 + " (表9)", onlyV3,
		with(quic, set("pool.lb_algorithm", "QUIC_CID"), set("pool.quic_cid_hash_strategy", obj{"len": 3, "offset": 1})),
		with(quic, set("pool.quic_cid_hash_strategy", obj{"len": 3})), []string{"pool.quic_cid_hash_strategy"}},
	{"v3-quic-cid-len", "`quic_cid_hash_strategy.len` 1–20", srcV3 + " (表9)", onlyV3,
		with(quic, set("pool.lb_algorithm", "QUIC_CID"), set("pool.quic_cid_hash_strategy", obj{"len": 20})),
		with(quic, set("pool.lb_algorithm", "QUIC_CID"), set("pool.quic_cid_hash_strategy", obj{"len": 21})), []string{"pool.quic_cid_hash_strategy.len"}},
	{"v3-quic-cid-offset", "`quic_cid_hash_strategy.offset` 0–19", srcV3 + " (表9)", onlyV3,
		with(quic, set("pool.lb_algorithm", "QUIC_CID"), set("pool.quic_cid_hash_strategy", obj{"offset": 0})),
		with(quic, set("pool.lb_algorithm", "QUIC_CID"), set("pool.quic_cid_hash_strategy", obj{"offset": 20})), []string{"pool.quic_cid_hash_strategy.offset"}},
}

package command_test

import (
	"strings"
	"testing"

	"github.com/lbfn/lbfn/shared/chatops/command"
	"github.com/lbfn/lbfn/shared/huaweicloud"
)

func BenchmarkParse(b *testing.B) {
	text := `create huawei-create-master-slave-pool —dry-run region＝cn-north-4 pool.protocol=TCP pool.lb_algorithm=ROUND_ROBIN pool.name=“my pool” ` +
		`pool.members[0].address=172.16.0.210 pool.members[0].role=master pool.members[0].protocol_port=80 ` +
		`pool.members[1].address=172.16.0.211 pool.members[1].role=slave pool.members[1].protocol_port=80 ` +
		`pool.healthmonitor={"delay":1,"max_retries":3,"timeout":30,"type":"TCP"}`
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := command.Parse(text, ops); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseLong: the longest command read, many pairs; the cost per byte should match
// BenchmarkParse's (linear time).
func BenchmarkParseLong(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("create jdcloud-create-backend")
	for i := 0; sb.Len() < command.MaxText-40; i++ {
		sb.WriteString(" healthCheckSpec.httpCode[" + itoa(i) + "]=200")
	}
	text := sb.String()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := command.Parse(text, ops); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDescribeFirst is the first help of the largest request type: a new operation each
// time, so the probes run again.
func BenchmarkDescribeFirst(b *testing.B) {
	for b.Loop() {
		_ = command.Describe(huaweicloud.NewCreateMasterSlavePool(nil))
	}
}

func BenchmarkUsage(b *testing.B) {
	for b.Loop() {
		_ = command.Usage(ops)
	}
}

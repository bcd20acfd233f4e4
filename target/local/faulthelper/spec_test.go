package faulthelper

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"
)

func TestRuleArgs(t *testing.T) {
	s := Spec{Chain: "OPD-0a0b0c0d", Queue: 7, Delay: time.Second}
	for _, c := range []struct {
		r    Rule
		want string
	}{
		{Rule{Action: Drop}, "-A OPD-0a0b0c0d -j DROP"},
		{Rule{Action: Drop, Dest: "10.0.0.2"}, "-A OPD-0a0b0c0d -d 10.0.0.2 -j DROP"},
		{Rule{Action: Drop, Probability: 0.3}, "-A OPD-0a0b0c0d -m statistic --mode random --probability 0.300000 -j DROP"},
		{Rule{Action: Drop, Probability: 1}, "-A OPD-0a0b0c0d -j DROP"},
		{Rule{Action: Queue, Dest: "10.0.0.2"}, "-A OPD-0a0b0c0d -d 10.0.0.2 -j NFQUEUE --queue-num 7 --queue-bypass"},
	} {
		if got := strings.Join(s.ruleArgs(c.r), " "); got != c.want {
			t.Errorf("ruleArgs(%+v) = %q, want %q", c.r, got, c.want)
		}
	}
	if got := strings.Join(s.jumpArgs("-I"), " "); got != "-I OUTPUT 1 ! -o lo -j OPD-0a0b0c0d" {
		t.Errorf("jump: %q", got)
	}
	if got := strings.Join(s.jumpArgs("-D"), " "); got != "-D OUTPUT ! -o lo -j OPD-0a0b0c0d" {
		t.Errorf("unjump: %q", got)
	}
}

func TestSpecValidateAndDecode(t *testing.T) {
	good := Spec{Chain: "OPD-0a0b0c0d", Rules: []Rule{{Action: Queue}}, Delay: time.Second, Jitter: 100 * time.Millisecond, Queue: 3}
	got, err := Decode(good.Encode())
	if err != nil || got.Delay != good.Delay || got.Rules[0].Action != Queue {
		t.Fatalf("Decode(Encode) = %+v, %v", got, err)
	}
	for _, bad := range []Spec{
		{Chain: "INPUT"},
		{Chain: "OPD-x; rm -rf"},
		{Chain: "OPD-1", Rules: []Rule{{Action: Queue}}},
		{Chain: "OPD-1", Rules: []Rule{{Action: "accept"}}},
		{Chain: "OPD-1", Rules: []Rule{{Action: Drop, Probability: 2}}},
		{Chain: "OPD-1", Delay: time.Second, Jitter: 2 * time.Second},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", bad)
		}
	}
	if err := (Spec{Hold: true}).Validate(); err != nil {
		t.Errorf("hold: %v", err)
	}
}

func TestPacketID(t *testing.T) {
	// An attribute before the packet header, then the header (id 0x01020304).
	msg := attr(9, []byte{1, 2, 3})
	hdr := make([]byte, 7)
	binary.BigEndian.PutUint32(hdr, 0x01020304)
	msg = append(msg, attr(attrPacketHdr, hdr)...)
	id, ok := packetID(msg)
	if !ok || id != 0x01020304 {
		t.Errorf("packetID = %#x, %v", id, ok)
	}
	if _, ok := packetID([]byte{1, 0}); ok {
		t.Error("a truncated message gave an id")
	}
	if _, ok := packetID(attr(9, []byte{1})); ok {
		t.Error("a message without a header gave an id")
	}
}

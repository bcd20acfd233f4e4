package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestDialReportsTheRoundTrip(t *testing.T) {
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer peer.Close()
	s, _ := newTestService(t, serveConfig{}, newFakeClock())
	h := s.handler()
	code, body := do(t, h, "GET", "/dial?to="+strings.TrimPrefix(peer.URL, "http://"), "")
	if code != http.StatusOK || !strings.HasPrefix(body, "ok rtt_ms=") || !strings.Contains(body, "status=200") {
		t.Errorf("dial: %d %q", code, body)
	}
	// A peer that does not answer: 502 within the timeout.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	start := time.Now()
	code, body = do(t, h, "GET", "/dial?to="+ln.Addr().String()+"&timeout=100ms", "")
	if code != http.StatusBadGateway || !strings.HasPrefix(body, "error: ") {
		t.Errorf("dial to a silent peer: %d %q", code, body)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("dial ignored its timeout")
	}
	if code, _ := do(t, h, "GET", "/dial", ""); code != http.StatusBadRequest {
		t.Errorf("dial without to: %d", code)
	}
	if code, _ := do(t, h, "GET", "/dial?to=x:1&timeout=soon", ""); code != http.StatusBadRequest {
		t.Errorf("dial with a bad timeout: %d", code)
	}
}

func TestUDPSendAndReceive(t *testing.T) {
	s, out := newTestService(t, serveConfig{}, newFakeClock())
	probe, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.LocalAddr().String()
	probe.Close()
	if err := s.listenUDP(addr); err != nil {
		t.Fatal(err)
	}
	h := s.handler()
	if code, body := do(t, h, "POST", "/udp?to="+addr+"&msg=hello", ""); code != http.StatusOK {
		t.Fatalf("send: %d %q", code, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := do(t, h, "GET", "/udp", "")
		if body == "hello" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /udp = %q after 10s, want hello", body)
		}
		time.Sleep(5 * time.Millisecond) // the datagram sends no event to wait on
	}
	if !strings.Contains(out.String(), "udp from 127.0.0.1:") {
		t.Errorf("log: %q", out.String())
	}
	if code, _ := do(t, h, "POST", "/udp?to="+addr, ""); code != http.StatusBadRequest {
		t.Errorf("send without msg: %d", code)
	}
}

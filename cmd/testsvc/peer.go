package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Reaching peers, for the fault suites: how long a request to another
// container takes (a delay adds to it, a partition stops it), and
// datagrams that show which direction of a one-way cut still flows.

// handleDial answers GET /dial?to=HOST:PORT[&timeout=D]: it sends
// GET /health to the peer and reports the round trip, connection included,
// as "ok rtt_ms=N" (or 502 and the error).
func (s *service) handleDial(w http.ResponseWriter, r *http.Request) {
	to := r.URL.Query().Get("to")
	if to == "" {
		writeText(w, http.StatusBadRequest, "missing ?to=HOST:PORT\n")
		return
	}
	timeout := 2 * time.Second
	if v := r.URL.Query().Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			writeText(w, http.StatusBadRequest, fmt.Sprintf("bad timeout %q\n", v))
			return
		}
		timeout = d
	}
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	resp, err := client.Get("http://" + to + "/health")
	if err != nil {
		writeText(w, http.StatusBadGateway, fmt.Sprintf("error: %v\n", err))
		return
	}
	resp.Body.Close()
	writeText(w, http.StatusOK, fmt.Sprintf("ok rtt_ms=%d status=%d\n", time.Since(start).Milliseconds(), resp.StatusCode))
}

// handleUDP answers POST /udp?to=HOST:PORT&msg=TEXT: it sends one datagram.
func (s *service) handleUDP(w http.ResponseWriter, r *http.Request) {
	to, msg := r.URL.Query().Get("to"), r.URL.Query().Get("msg")
	if to == "" || msg == "" {
		writeText(w, http.StatusBadRequest, "want ?to=HOST:PORT&msg=TEXT\n")
		return
	}
	conn, err := net.Dial("udp", to)
	if err != nil {
		writeText(w, http.StatusBadGateway, fmt.Sprintf("error: %v\n", err))
		return
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(msg)); err != nil {
		writeText(w, http.StatusBadGateway, fmt.Sprintf("error: %v\n", err))
		return
	}
	writeText(w, http.StatusOK, "sent\n")
}

// handleUDPReceived answers GET /udp: the text of every datagram received
// so far, one a line.
func (s *service) handleUDPReceived(w http.ResponseWriter, r *http.Request) {
	s.udpMu.Lock()
	defer s.udpMu.Unlock()
	writeText(w, http.StatusOK, strings.Join(s.udpReceived, "\n"))
}

// listenUDP logs every datagram that arrives on addr ("udp from ADDR:
// TEXT") and keeps its text for GET /udp.
func (s *service) listenUDP(addr string) error {
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			fmt.Fprintf(s.stdout, "udp from %s: %s\n", from, buf[:n])
			s.udpMu.Lock()
			s.udpReceived = append(s.udpReceived, string(buf[:n]))
			s.udpMu.Unlock()
		}
	}()
	return nil
}

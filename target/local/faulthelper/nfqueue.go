package faulthelper

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The kernel's netfilter queue protocol (linux/netfilter/nfnetlink_queue.h):
// packets an NFQUEUE rule sends to a queue are offered to the process
// bound to it, and wait in the kernel until it gives a verdict. This is how
// a delay is made where the kernel has no netem (docs/faults.md): the
// helper accepts each packet once its delay has passed.
const (
	nfnlSubsysQueue = 3
	msgPacket       = nfnlSubsysQueue << 8
	msgVerdict      = nfnlSubsysQueue<<8 | 1
	msgConfig       = nfnlSubsysQueue<<8 | 2

	attrCfgCmd    = 1
	attrCfgParams = 2
	attrCfgMaxLen = 3
	attrCfgMask   = 4
	attrCfgFlags  = 5
	attrPacketHdr = 1
	attrVerdict   = 2

	cmdBind       = 1
	cmdUnbind     = 2
	copyMeta      = 1 // the packet's metadata (its id), not its bytes
	flagFailOpen  = 1
	verdictAccept = 1

	queueMaxLen = 8192
)

// nfqueue is a bound queue.
type nfqueue struct {
	fd  int
	num uint16
	mu  sync.Mutex // guards seq and sends
	seq uint32
}

func openQueue(num uint16) (*nfqueue, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return nil, fmt.Errorf("netfilter netlink socket: %w", err)
	}
	q := &nfqueue{fd: fd, num: num}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		q.close()
		return nil, fmt.Errorf("bind netlink socket: %w", err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_NO_ENOBUFS, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20)
	// A receive timeout lets the reading loop notice it should stop.
	tv := unix.NsecToTimeval((200 * time.Millisecond).Nanoseconds())
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)

	params := make([]byte, 5)
	binary.BigEndian.PutUint32(params, 0xffff)
	params[4] = copyMeta
	maxLen := make([]byte, 4)
	binary.BigEndian.PutUint32(maxLen, queueMaxLen)
	flags := make([]byte, 4)
	binary.BigEndian.PutUint32(flags, flagFailOpen) // a full queue lets packets through, never drops them
	for _, step := range []struct {
		what  string
		attrs []byte
	}{
		{"bind queue", attr(attrCfgCmd, []byte{cmdBind, 0, 0, unix.AF_INET})},
		{"set copy mode", attr(attrCfgParams, params)},
		{"set queue length", attr(attrCfgMaxLen, maxLen)},
		{"set fail-open", append(attr(attrCfgFlags, flags), attr(attrCfgMask, flags)...)},
	} {
		if err := q.request(msgConfig, step.attrs); err != nil {
			q.close()
			return nil, fmt.Errorf("netfilter queue %d: %s: %w", num, step.what, err)
		}
	}
	return q, nil
}

// request sends a message and waits for the kernel's acknowledgement.
func (q *nfqueue) request(typ uint16, attrs []byte) error {
	seq, err := q.send(typ, unix.NLM_F_ACK, attrs)
	if err != nil {
		return err
	}
	buf := make([]byte, 8192)
	for {
		n, _, err := unix.Recvfrom(q.fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return err
		}
		for off := 0; off+unix.NLMSG_HDRLEN <= n; {
			l := int(binary.NativeEndian.Uint32(buf[off:]))
			t := binary.NativeEndian.Uint16(buf[off+4:])
			s := binary.NativeEndian.Uint32(buf[off+8:])
			if l < unix.NLMSG_HDRLEN || off+l > n {
				return fmt.Errorf("malformed netlink answer")
			}
			if t == unix.NLMSG_ERROR && s == seq && l >= unix.NLMSG_HDRLEN+4 {
				if code := int32(binary.NativeEndian.Uint32(buf[off+unix.NLMSG_HDRLEN:])); code != 0 {
					return unix.Errno(-code)
				}
				return nil
			}
			off += align4(l)
		}
	}
}

func (q *nfqueue) send(typ, flags uint16, attrs []byte) (uint32, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	msg := make([]byte, unix.NLMSG_HDRLEN+4, unix.NLMSG_HDRLEN+4+len(attrs))
	binary.NativeEndian.PutUint32(msg[0:], uint32(unix.NLMSG_HDRLEN+4+len(attrs)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], unix.NLM_F_REQUEST|flags)
	binary.NativeEndian.PutUint32(msg[8:], q.seq)
	// nfgenmsg: family, version, queue number (big-endian)
	msg[16] = unix.AF_UNSPEC
	binary.BigEndian.PutUint16(msg[18:], q.num)
	msg = append(msg, attrs...)
	return q.seq, unix.Sendto(q.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
}

// accept lets a queued packet go on its way.
func (q *nfqueue) accept(id uint32) error {
	v := make([]byte, 8)
	binary.BigEndian.PutUint32(v, verdictAccept)
	binary.BigEndian.PutUint32(v[4:], id)
	_, err := q.send(msgVerdict, 0, attr(attrVerdict, v))
	return err
}

// receive calls got with the id of each packet offered, until stop is
// closed.
func (q *nfqueue) receive(stop <-chan struct{}, got func(id uint32)) error {
	buf := make([]byte, 1<<16)
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		n, _, err := unix.Recvfrom(q.fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.ENOBUFS) {
				continue
			}
			return fmt.Errorf("netfilter queue %d: %w", q.num, err)
		}
		for off := 0; off+unix.NLMSG_HDRLEN+4 <= n; {
			l := int(binary.NativeEndian.Uint32(buf[off:]))
			if l < unix.NLMSG_HDRLEN || off+l > n {
				break
			}
			if binary.NativeEndian.Uint16(buf[off+4:]) == msgPacket {
				if id, ok := packetID(buf[off+unix.NLMSG_HDRLEN+4 : off+l]); ok {
					got(id)
				}
			}
			off += align4(l)
		}
	}
}

// packetID finds the packet header attribute and reads its id.
func packetID(attrs []byte) (uint32, bool) {
	for len(attrs) >= 4 {
		l := int(binary.NativeEndian.Uint16(attrs))
		t := binary.NativeEndian.Uint16(attrs[2:]) & 0x7fff
		if l < 4 || l > len(attrs) {
			return 0, false
		}
		if t == attrPacketHdr && l >= 8 {
			return binary.BigEndian.Uint32(attrs[4:]), true
		}
		attrs = attrs[min(align4(l), len(attrs)):]
	}
	return 0, false
}

func (q *nfqueue) close() {
	if q.seq > 0 {
		_, _ = q.send(msgConfig, 0, attr(attrCfgCmd, []byte{cmdUnbind, 0, 0, unix.AF_INET}))
	}
	_ = unix.Close(q.fd)
}

func attr(typ uint16, data []byte) []byte {
	b := make([]byte, align4(4+len(data)))
	binary.NativeEndian.PutUint16(b, uint16(4+len(data)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	copy(b[4:], data)
	return b
}

func align4(n int) int { return (n + 3) &^ 3 }

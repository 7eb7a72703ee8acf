package siptest

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// RawClient sends hand-written SIP over UDP from a loopback port of its
// own and reads the responses, for the cases a well-behaved UA never
// produces: malformed requests, relay attempts, wrong credentials.
type RawClient struct {
	conn   *net.UDPConn
	server *net.UDPAddr
}

// Response is one SIP response as received.
type Response struct {
	Status  int
	Reason  string
	Headers map[string]string // first value of each header, canonical lower-case names
	Raw     string
}

// DialRaw opens a UDP socket towards server (host:port).
func DialRaw(server string) (*RawClient, error) {
	addr, err := net.ResolveUDPAddr("udp4", server)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	return &RawClient{conn: c, server: addr}, nil
}

// Close closes the socket.
func (c *RawClient) Close() error { return c.conn.Close() }

// LocalPort is the client's UDP port.
func (c *RawClient) LocalPort() int { return c.conn.LocalAddr().(*net.UDPAddr).Port }

// Send writes b as one datagram.
func (c *RawClient) Send(b []byte) error {
	_, err := c.conn.WriteToUDP(b, c.server)
	return err
}

// Read returns the next response, or an error when none comes before ctx
// ends. Datagrams that are not responses are skipped.
func (c *RawClient) Read(ctx context.Context) (Response, error) {
	buf := make([]byte, 65536)
	for {
		deadline, ok := ctx.Deadline()
		if !ok {
			deadline = time.Now().Add(5 * time.Second)
		}
		c.conn.SetReadDeadline(deadline)
		n, _, err := c.conn.ReadFromUDP(buf)
		if err != nil {
			return Response{}, err
		}
		if r, ok := parseResponse(string(buf[:n])); ok {
			return r, nil
		}
	}
}

// Final sends req and returns the first final (>= 200) response, passing
// over provisional ones.
func (c *RawClient) Final(ctx context.Context, req string) (Response, error) {
	if err := c.Send([]byte(req)); err != nil {
		return Response{}, err
	}
	for {
		r, err := c.Read(ctx)
		if err != nil || r.Status >= 200 {
			return r, err
		}
	}
}

func parseResponse(s string) (Response, bool) {
	head, _, _ := strings.Cut(s, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	f := strings.SplitN(lines[0], " ", 3)
	if len(f) < 2 || !strings.HasPrefix(f[0], "SIP/2.0") {
		return Response{}, false
	}
	code, err := strconv.Atoi(f[1])
	if err != nil {
		return Response{}, false
	}
	r := Response{Status: code, Headers: map[string]string{}, Raw: s}
	if len(f) == 3 {
		r.Reason = f[2]
	}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if _, dup := r.Headers[k]; !dup {
			r.Headers[k] = strings.TrimSpace(v)
		}
	}
	return r, true
}

// Request is the input of BuildRequest: what differs between the raw
// requests the negative tests send.
type Request struct {
	Method, URI     string
	From, To        string // URIs
	CallID          string
	CSeq            int
	Contact         string
	Extra           []string // more header lines
	Body            string
	ContentType     string
	LocalPort       int
	Branch, FromTag string
}

// Build renders the request with a Via on 127.0.0.1:LocalPort, fresh
// branch and tag unless given, and a correct Content-Length.
func (r Request) Build() string {
	if r.Branch == "" {
		r.Branch = "z9hG4bK" + strconv.FormatUint(rand.Uint64(), 36)
	}
	if r.FromTag == "" {
		r.FromTag = strconv.FormatUint(rand.Uint64(), 36)
	}
	if r.CallID == "" {
		r.CallID = strconv.FormatUint(rand.Uint64(), 36) + "@siptest"
	}
	if r.CSeq == 0 {
		r.CSeq = 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", r.Method, r.URI)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport\r\n", r.LocalPort, r.Branch)
	fmt.Fprintf(&b, "Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <%s>;tag=%s\r\n", r.From, r.FromTag)
	fmt.Fprintf(&b, "To: <%s>\r\n", r.To)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", r.CallID)
	fmt.Fprintf(&b, "CSeq: %d %s\r\n", r.CSeq, r.Method)
	if r.Contact != "" {
		fmt.Fprintf(&b, "Contact: <%s>\r\n", r.Contact)
	}
	fmt.Fprintf(&b, "User-Agent: switchboard-siptest\r\n")
	for _, h := range r.Extra {
		b.WriteString(h + "\r\n")
	}
	if r.Body != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", r.ContentType)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(r.Body), r.Body)
	return b.String()
}

// OfferSDP is a G.711 offer from 127.0.0.1:port.
func OfferSDP(port int) string {
	return fmt.Sprintf("v=0\r\no=siptest 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n", port)
}

var challengeParam = regexp.MustCompile(`(\w+)="?([^",]*)"?`)

// DigestAuthorization answers a WWW-Authenticate (or Proxy-Authenticate)
// challenge per RFC 2617 with MD5 (and qop=auth when offered), for method
// and uri.
func DigestAuthorization(challenge, method, uri, username, password string) string {
	p := map[string]string{}
	for _, m := range challengeParam.FindAllStringSubmatch(strings.TrimPrefix(strings.TrimSpace(challenge), "Digest"), -1) {
		p[strings.ToLower(m[1])] = m[2]
	}
	h := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	ha1 := h(username + ":" + p["realm"] + ":" + password)
	ha2 := h(method + ":" + uri)
	auth := fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=MD5`, username, p["realm"], p["nonce"], uri)
	if qops := p["qop"]; strings.Contains(qops, "auth") {
		cnonce, nc := strconv.FormatUint(rand.Uint64(), 16), "00000001"
		resp := h(ha1 + ":" + p["nonce"] + ":" + nc + ":" + cnonce + ":auth:" + ha2)
		auth += fmt.Sprintf(`, response="%s", qop=auth, nc=%s, cnonce="%s"`, resp, nc, cnonce)
	} else {
		auth += fmt.Sprintf(`, response="%s"`, h(ha1+":"+p["nonce"]+":"+ha2))
	}
	if o := p["opaque"]; o != "" {
		auth += fmt.Sprintf(`, opaque="%s"`, o)
	}
	return auth
}

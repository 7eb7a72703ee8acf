package siptest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BaresipConfig describes a headless baresip softphone with one account.
type BaresipConfig struct {
	// User and Password are the account's SIP username and digest password.
	User, Password string
	// Registrar is the host:port the account registers with and whose
	// domain it uses; RegisterSeconds is the registration interval (0: the
	// account does not register, it only places and takes calls).
	Registrar       string
	RegisterSeconds int
	// AutoAnswer answers incoming calls at once.
	AutoAnswer bool
	// ToneHz is the sine the phone sends as its microphone (default 440).
	ToneHz int
}

// Baresip is a running baresip with a ctrl_tcp connection.
type Baresip struct {
	cfg      BaresipConfig
	dir      string
	sipPort  int
	ctrlPort int
	cmd      *exec.Cmd
	done     chan struct{}
	conn     net.Conn

	mu        sync.Mutex
	events    []BaresipEvent
	consumed  []bool
	notify    chan struct{}
	responses map[string]chan baresipResponse
	token     int
}

// BaresipEvent is an event ctrl_tcp reports, such as CALL_RINGING,
// CALL_ESTABLISHED, CALL_CLOSED, REGISTER_OK or REGISTER_FAIL.
type BaresipEvent struct {
	Type       string `json:"type"`
	Class      string `json:"class"`
	AccountAOR string `json:"accountaor"`
	Direction  string `json:"direction"`
	PeerURI    string `json:"peeruri"`
	ID         string `json:"id"`
	Param      string `json:"param"`
}

type baresipResponse struct {
	OK    bool   `json:"ok"`
	Data  string `json:"data"`
	Token string `json:"token"`
}

// StartBaresip starts baresip (-4 -f DIR) with a configuration written to a
// temporary directory: loopback only, G.711, the ausine tone as microphone,
// no sound card (the null player), calls recorded by the sndfile module, and
// ctrl_tcp on a free port. The process ends with the test.
func StartBaresip(ctx context.Context, t testing.TB, cfg BaresipConfig) *Baresip {
	t.Helper()
	Require(t, BaresipBinary)
	if cfg.ToneHz == 0 {
		cfg.ToneHz = 440
	}
	dir, err := os.MkdirTemp(t.TempDir(), "baresip-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "rec"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := &Baresip{cfg: cfg, dir: dir, sipPort: FreeUDPPort(t), ctrlPort: FreeTCPPort(t), done: make(chan struct{}),
		notify: make(chan struct{}), responses: map[string]chan baresipResponse{}}
	rtp := FreeUDPRange(t, 20)
	config := fmt.Sprintf(`poll_method		epoll
sip_listen		127.0.0.1:%d
net_interface		127.0.0.1
call_local_timeout	120
call_max_calls		4
audio_player		alsa,null
audio_alert		alsa,null
audio_source		ausine,%d
ausrc_srate		48000
ausrc_channels		2
rtp_ports		%d-%d
rtp_timeout		0
module_path		/usr/lib/baresip/modules
module			g711.so
module			ausine.so
module			alsa.so
module			sndfile.so
module_tmp		uuid.so
module_tmp		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:%d
snd_path		%s
`, b.sipPort, cfg.ToneHz, rtp, rtp+19, b.ctrlPort, filepath.Join(dir, "rec"))
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	domain := cfg.Registrar
	if domain == "" {
		domain = fmt.Sprintf("127.0.0.1:%d", b.sipPort)
	}
	account := fmt.Sprintf("<sip:%s@%s;transport=udp>;regint=%d;audio_codecs=pcma,pcmu", cfg.User, domain, cfg.RegisterSeconds)
	if cfg.Password != "" {
		account += ";auth_pass=" + cfg.Password
	}
	if cfg.AutoAnswer {
		account += ";answermode=auto"
	} else {
		account += ";answermode=manual"
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(account+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "baresip.log"))
	if err != nil {
		t.Fatal(err)
	}
	b.cmd = exec.CommandContext(ctx, BaresipBinary, "-4", "-f", dir)
	b.cmd.Dir = dir
	b.cmd.Stdin = nil
	b.cmd.Stdout, b.cmd.Stderr = logf, logf
	b.cmd.WaitDelay = 2 * time.Second
	if err := b.cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start baresip: %v", err)
	}
	go func() {
		b.cmd.Wait()
		logf.Close()
		close(b.done)
	}()
	t.Cleanup(b.Close)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp4", fmt.Sprintf("127.0.0.1:%d", b.ctrlPort), time.Second)
		if err == nil {
			b.conn = c
			break
		}
		select {
		case <-b.done:
			t.Fatalf("baresip exited at start:\n%s", b.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("baresip's ctrl_tcp did not listen within 10 s: %v\n%s", err, b.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	go b.read()
	return b
}

// Close quits baresip and waits for it to exit.
func (b *Baresip) Close() {
	select {
	case <-b.done:
		return
	default:
	}
	if b.conn != nil {
		b.send("quit", "", "")
	}
	select {
	case <-b.done:
	case <-time.After(3 * time.Second):
		b.cmd.Process.Kill()
		<-b.done
	}
	if b.conn != nil {
		b.conn.Close()
	}
}

// SIPPort is the UDP port baresip listens on for SIP.
func (b *Baresip) SIPPort() int { return b.sipPort }

// URI is the SIP URI that reaches this phone directly (not through a
// registrar).
func (b *Baresip) URI() string { return fmt.Sprintf("sip:%s@127.0.0.1:%d", b.cfg.User, b.sipPort) }

// Log is what baresip printed so far.
func (b *Baresip) Log() string {
	s, _ := os.ReadFile(filepath.Join(b.dir, "baresip.log"))
	return string(s)
}

// Recordings are the WAV files sndfile wrote, sorted by name:
// dump-<time>-dec.wav holds what the phone heard, -enc.wav what it sent.
func (b *Baresip) Recordings() []string {
	m, _ := filepath.Glob(filepath.Join(b.dir, "rec", "*.wav"))
	sort.Strings(m)
	return m
}

// read parses ctrl_tcp's netstrings (<len>:<json>,) into events and
// command responses.
func (b *Baresip) read() {
	r := bufio.NewReader(b.conn)
	for {
		n, err := r.ReadString(':')
		if err != nil {
			return
		}
		size, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(n, ":")))
		if err != nil || size < 0 || size > 1<<20 {
			return
		}
		buf := make([]byte, size+1)
		if _, err := io.ReadFull(r, buf); err != nil || buf[size] != ',' {
			return
		}
		var head struct {
			Event    bool `json:"event"`
			Response bool `json:"response"`
		}
		if json.Unmarshal(buf[:size], &head) != nil {
			continue
		}
		b.mu.Lock()
		switch {
		case head.Event:
			var ev BaresipEvent
			json.Unmarshal(buf[:size], &ev)
			b.events = append(b.events, ev)
			b.consumed = append(b.consumed, false)
			close(b.notify)
			b.notify = make(chan struct{})
		case head.Response:
			var res baresipResponse
			json.Unmarshal(buf[:size], &res)
			if ch, ok := b.responses[res.Token]; ok {
				ch <- res
				delete(b.responses, res.Token)
			}
		}
		b.mu.Unlock()
	}
}

func (b *Baresip) send(command, params, token string) error {
	msg, _ := json.Marshal(map[string]string{"command": command, "params": params, "token": token})
	b.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	_, err := fmt.Fprintf(b.conn, "%d:%s,", len(msg), msg)
	return err
}

// Command runs a ctrl_tcp command (the menu's long names: dial, hangup,
// hold, resume, transfer, sndcode, reginfo...) and returns its output.
func (b *Baresip) Command(ctx context.Context, command, params string) (string, error) {
	b.mu.Lock()
	b.token++
	token := "t" + strconv.Itoa(b.token)
	ch := make(chan baresipResponse, 1)
	b.responses[token] = ch
	b.mu.Unlock()
	if err := b.send(command, params, token); err != nil {
		return "", fmt.Errorf("baresip %s: %w", command, err)
	}
	select {
	case res := <-ch:
		if !res.OK {
			return res.Data, fmt.Errorf("baresip %s %s: refused: %s", command, params, res.Data)
		}
		return res.Data, nil
	case <-b.done:
		return "", fmt.Errorf("baresip %s: baresip exited", command)
	case <-ctx.Done():
		return "", fmt.Errorf("baresip %s: %w", command, ctx.Err())
	}
}

// Await returns the oldest event of type typ that Await has not returned
// yet, waiting for one until ctx ends. Events of other types stay for later
// calls.
func (b *Baresip) Await(ctx context.Context, typ string) (BaresipEvent, error) {
	for {
		b.mu.Lock()
		for i, ev := range b.events {
			if !b.consumed[i] && ev.Type == typ {
				b.consumed[i] = true
				b.mu.Unlock()
				return ev, nil
			}
		}
		wait := b.notify
		b.mu.Unlock()
		select {
		case <-wait:
		case <-b.done:
			return BaresipEvent{}, fmt.Errorf("baresip exited before %s; events: %s", typ, b.History())
		case <-ctx.Done():
			return BaresipEvent{}, fmt.Errorf("no %s from baresip: %w; events: %s", typ, ctx.Err(), b.History())
		}
	}
}

// History lists the events so far, for a failure message.
func (b *Baresip) History() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s []string
	for _, ev := range b.events {
		if ev.Class == "call" || strings.HasPrefix(ev.Type, "REGISTER") {
			s = append(s, ev.Type+"("+ev.Param+")")
		}
	}
	return strings.Join(s, " ")
}

// WaitRegistered waits until the account's registration stands, by asking
// reginfo: the REGISTER_OK event may come before the control connection
// is made (baresip registers as it starts), so it cannot be awaited.
func (b *Baresip) WaitRegistered(ctx context.Context) error {
	for {
		info, err := b.Command(ctx, "reginfo", "")
		if err != nil {
			return err
		}
		switch {
		case strings.Contains(info, "\x1b[32mOK"):
			return nil
		case strings.Contains(info, "ERR"):
			return fmt.Errorf("baresip's registration failed: %q; events: %s\n%s", info, b.History(), b.Log())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("baresip did not register: %q: %w\n%s", info, ctx.Err(), b.Log())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Dial calls uri.
func (b *Baresip) Dial(ctx context.Context, uri string) error {
	_, err := b.Command(ctx, "dial", uri)
	return err
}

// Hangup ends the current call.
func (b *Baresip) Hangup(ctx context.Context) error {
	_, err := b.Command(ctx, "hangup", "")
	return err
}

// Hold puts the current call on hold (a re-INVITE with a=sendonly).
func (b *Baresip) Hold(ctx context.Context) error {
	_, err := b.Command(ctx, "hold", "")
	return err
}

// Resume takes the current call off hold.
func (b *Baresip) Resume(ctx context.Context) error {
	_, err := b.Command(ctx, "resume", "")
	return err
}

// Transfer sends REFER for a blind transfer of the current call to uri.
func (b *Baresip) Transfer(ctx context.Context, uri string) error {
	_, err := b.Command(ctx, "transfer", uri)
	return err
}

// SendDTMF keys digits on the current call (RFC 4733 events).
func (b *Baresip) SendDTMF(ctx context.Context, digits string) error {
	for _, d := range digits {
		if _, err := b.Command(ctx, "sndcode", string(d)); err != nil {
			return err
		}
		time.Sleep(150 * time.Millisecond)
	}
	return nil
}

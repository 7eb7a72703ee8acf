package switchboard

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Trunk is a tenant's connection to a SIP carrier. Inbound, the carrier's
// calls are recognised by their source address (InboundAddresses) or by the
// digest credentials the carrier presents (InboundUsername); the DID they
// dial picks the tenant's phone number and so the route. Outbound, calls
// leave through OutboundURI, answering the carrier's digest challenge with
// Username and Password when one comes, optionally keeping a registration
// (Register) so that the carrier knows where to send inbound calls.
//
// Passwords are write-only: they are never rendered by an API or put in an
// event (json:"-"), but the store keeps them retrievably, because the SIP
// driver must compute digest answers with them.
type Trunk struct {
	ID       int64  `json:"id"`
	TenantID int64  `json:"tenant_id"`
	Name     string `json:"name"`
	// InboundAddresses are the carrier's signalling addresses, as prefixes
	// in canonical form ("192.0.2.0/24", "2001:db8::1/128"); a single
	// address is stored as its one-address prefix.
	InboundAddresses []string `json:"inbound_addresses"`
	// InboundUsername and InboundPassword are the credentials a carrier
	// without fixed addresses answers our digest challenge with. Inbound
	// usernames are unique across tenants, since they tell the tenant.
	InboundUsername string `json:"inbound_username"`
	InboundPassword string `json:"-"`
	// OutboundURI is where outbound calls go: sip:host[:port][;transport=…]
	// or sips:…; the dialled number becomes its user part.
	OutboundURI string `json:"outbound_uri"`
	Username    string `json:"username"`
	Password    string `json:"-"`
	// Register keeps an outbound registration with the carrier as Username.
	Register bool `json:"register"`
	// DefaultOutbound makes this the trunk the tenant's outbound calls
	// (click-to-call, dialer) leave through; at most one trunk per tenant
	// has it, so setting it on one clears it on the others.
	DefaultOutbound bool `json:"default_outbound"`
	// CallerID is the number outbound calls present: CallerIDFromCall (the
	// calling agent's or campaign's own number) or a fixed E.164 number.
	CallerID string `json:"caller_id"`
	// StripPlus sends numbers without their leading "+" (many carriers want
	// 390112121212); Prefix is put before every dialled number (a carrier's
	// tech prefix or an international access code such as "00").
	StripPlus bool   `json:"strip_plus"`
	Prefix    string `json:"prefix"`
	// MaxConcurrentCalls and CallsPerSecond bound the outbound calls in
	// progress and started within any second through this trunk (the
	// carrier's contract); 0 means no bound.
	MaxConcurrentCalls int `json:"max_concurrent_calls"`
	CallsPerSecond     int `json:"calls_per_second"`
	// OptionsIntervalSeconds is how often the driver sends OPTIONS to the
	// carrier to tell whether it is up; 0 sends none.
	OptionsIntervalSeconds int `json:"options_interval_seconds"`
	// Enabled trunks take and place calls; a disabled one is kept but unused.
	Enabled bool `json:"enabled"`
	// PasswordSet and InboundPasswordSet say whether a password is stored,
	// since the passwords themselves are never shown.
	PasswordSet        bool      `json:"password_set"`
	InboundPasswordSet bool      `json:"inbound_password_set"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// CallerIDFromCall is the Trunk.CallerID that presents the call's own
// number.
const CallerIDFromCall = "from_call"

// Limits of a trunk's settings.
const (
	MaxTrunkAddresses        = 100
	MaxTrunkConcurrentCalls  = 100000
	MaxTrunkCallsPerSecond   = 10000
	MinTrunkOptionsInterval  = 5
	MaxTrunkOptionsInterval  = 3600
	MaxTrunkPrefixLength     = 16
	MaxTrunkUsernameLength   = 64
	trunkPrefixCharacters    = "0123456789*#"
	trunkOutboundURIMaxBytes = 512
)

// TrunkStatus is a trunk's health as this node's SIP driver sees it: the
// outcome of its OPTIONS checks and of its outbound registration. It is not
// stored; every node checks for itself.
type TrunkStatus struct {
	// State is "up" (the carrier answered the last check and any
	// registration holds), "down" (it did not; LastError says why),
	// "unknown" (nothing checked yet, or no check configured) or
	// "disabled".
	State string `json:"state"`
	// Registered says whether the outbound registration holds, until
	// RegisteredUntil.
	Registered      bool       `json:"registered"`
	RegisteredUntil *time.Time `json:"registered_until"`
	LastCheckAt     *time.Time `json:"last_check_at"`
	LastError       string     `json:"last_error"`
	// RTTMillis is the round trip of the last answered OPTIONS.
	RTTMillis   int64 `json:"rtt_ms"`
	ActiveCalls int   `json:"active_calls"`
}

// The trunk states.
const (
	TrunkUp       = "up"
	TrunkDown     = "down"
	TrunkUnknown  = "unknown"
	TrunkDisabled = "disabled"
)

// TrunkURI is an OutboundURI taken apart.
type TrunkURI struct {
	// Secure is true for sips: URIs.
	Secure bool
	// Host is a domain name or an IP address (IPv6 without brackets).
	Host string
	// Port is 0 when the URI names none (the transport's default, or DNS
	// SRV).
	Port int
	// Transport is "udp", "tcp", "tls", "ws" or "wss", or "" for the
	// default.
	Transport string
}

// ParseTrunkURI checks and takes apart a trunk's outbound URI:
// sip:host[:port][;transport=udp|tcp|tls|ws|wss] or sips:…, without a user
// part (the dialled number goes there) or headers.
func ParseTrunkURI(s string) (TrunkURI, error) {
	var u TrunkURI
	scheme, rest, ok := strings.Cut(s, ":")
	switch {
	case ok && strings.EqualFold(scheme, "sip"):
	case ok && strings.EqualFold(scheme, "sips"):
		u.Secure = true
	default:
		return u, errTrunkURI("must start with sip: or sips:")
	}
	if strings.ContainsAny(rest, "@?") {
		return u, errTrunkURI("must not name a user or headers: the dialled number becomes the user")
	}
	hostport, params, _ := strings.Cut(rest, ";")
	for p := range strings.SplitSeq(params, ";") {
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		switch strings.ToLower(k) {
		case "transport":
			v = strings.ToLower(v)
			switch v {
			case "udp", "tcp", "tls", "ws", "wss":
			default:
				return u, errTrunkURI("has transport " + strconv.Quote(v) + "; use udp, tcp, tls, ws or wss")
			}
			if u.Secure && (v == "udp" || v == "tcp" || v == "ws") {
				return u, errTrunkURI("is sips: but asks for the insecure transport " + v)
			}
			u.Transport = v
		case "lr":
		default:
			return u, errTrunkURI("has the unknown parameter " + strconv.Quote(k))
		}
	}
	host, port := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		end := strings.Index(hostport, "]")
		if end < 0 {
			return u, errTrunkURI("has an unclosed IPv6 bracket")
		}
		host, port = hostport[1:end], strings.TrimPrefix(hostport[end+1:], ":")
		if hostport[end+1:] != "" && !strings.HasPrefix(hostport[end+1:], ":") {
			return u, errTrunkURI("has text after the IPv6 address")
		}
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
			return u, errTrunkURI("has an invalid IPv6 address in brackets")
		}
	} else if h, p, found := strings.Cut(hostport, ":"); found {
		host, port = h, p
		if port == "" {
			return u, errTrunkURI("has an empty port")
		}
	}
	if host == "" {
		return u, errTrunkURI("needs a host, as in sip:carrier.example.com or sip:192.0.2.10:5060")
	}
	if _, err := netip.ParseAddr(host); err != nil && !validHostname(host) {
		return u, errTrunkURI("has an invalid host " + strconv.Quote(Echo(host)))
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return u, errTrunkURI("has an invalid port; use 1-65535")
		}
		u.Port = n
	}
	u.Host = host
	return u, nil
}

// HostPort is the URI's host and port as a dial address ("host:port"), with
// the transport's default port when the URI names none.
func (u TrunkURI) HostPort() string {
	port := u.Port
	if port == 0 {
		port = 5060
		if u.Secure || u.Transport == "tls" || u.Transport == "wss" {
			port = 5061
		}
	}
	return net.JoinHostPort(u.Host, strconv.Itoa(port))
}

type trunkURIError string

func (e trunkURIError) Error() string { return string(e) }

func errTrunkURI(reason string) error { return trunkURIError(reason) }

// validHostname reports whether h is a DNS name: dot-separated labels of
// letters, digits and inner hyphens.
func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// ParseTrunkAddress reads one inbound address: a CIDR prefix or a single
// IPv4 or IPv6 address, returned as its canonical prefix. A prefix with host
// bits set is refused rather than widened, since "192.0.2.7/24" more likely
// means one host than the 256 the mask says.
func ParseTrunkAddress(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, errTrunkURI(strconv.Quote(Echo(s)) + " is not an IP address or CIDR prefix")
		}
		if p.Addr().Zone() != "" {
			return p, errTrunkURI(strconv.Quote(Echo(s)) + " has an IPv6 zone")
		}
		if p.Masked() != p {
			return p, errTrunkURI(strconv.Quote(Echo(s)) + " has host bits set; use " + p.Masked().String() + " for the network or a /" +
				strconv.Itoa(p.Addr().BitLen()) + " for one host")
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 { // an IPv4 network written as IPv6: sources are matched unmapped
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.Bits() == 0 {
			return p, errTrunkURI(strconv.Quote(Echo(s)) + " matches every address; use inbound credentials for a carrier without fixed addresses")
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, errTrunkURI(strconv.Quote(Echo(s)) + " is not an IP address or CIDR prefix")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Normalize canonicalises what Validate does not refuse: inbound addresses
// in prefix form, the default caller-id rule, surrounding spaces.
func (t *Trunk) Normalize() {
	t.Name = strings.TrimSpace(t.Name)
	t.OutboundURI = strings.TrimSpace(t.OutboundURI)
	t.InboundUsername = strings.TrimSpace(t.InboundUsername)
	t.Username = strings.TrimSpace(t.Username)
	t.CallerID = strings.TrimSpace(t.CallerID)
	if t.CallerID == "" {
		t.CallerID = CallerIDFromCall
	}
	for i, a := range t.InboundAddresses {
		if p, err := ParseTrunkAddress(a); err == nil {
			t.InboundAddresses[i] = p.String()
		}
	}
	if t.InboundAddresses == nil {
		t.InboundAddresses = []string{}
	}
	t.PasswordSet, t.InboundPasswordSet = t.Password != "", t.InboundPassword != ""
}

// Validate reports every invalid field of t. A caller-id number is checked
// for E.164 form here; the store normalises what people type first.
func (t *Trunk) Validate() error {
	p := Problems{}
	checkName(p, "name", t.Name, true)
	checkItems(p, "inbound_addresses", len(t.InboundAddresses), MaxTrunkAddresses)
	seen := map[string]bool{}
	for _, a := range t.InboundAddresses {
		pre, err := ParseTrunkAddress(a)
		if err != nil {
			p.Add("inbound_addresses", err.Error())
			break
		}
		if seen[pre.String()] {
			p.Add("inbound_addresses", pre.String()+" is listed twice")
			break
		}
		seen[pre.String()] = true
	}
	checkLen(p, "inbound_username", t.InboundUsername, MaxTrunkUsernameLength)
	checkLen(p, "inbound_password", t.InboundPassword, MaxSecretLength)
	checkSIPUser(p, "inbound_username", t.InboundUsername)
	switch {
	case t.InboundUsername != "" && t.InboundPassword == "":
		p.Add("inbound_password", "is required with inbound_username")
	case t.InboundUsername == "" && t.InboundPassword != "":
		p.Add("inbound_username", "is required with inbound_password")
	}
	if len(t.OutboundURI) > trunkOutboundURIMaxBytes {
		p.Add("outbound_uri", "must be at most "+strconv.Itoa(trunkOutboundURIMaxBytes)+" characters")
	} else if t.OutboundURI != "" {
		if _, err := ParseTrunkURI(t.OutboundURI); err != nil {
			p.Add("outbound_uri", err.Error())
		}
	}
	if len(t.InboundAddresses) == 0 && t.InboundUsername == "" && t.OutboundURI == "" {
		p.Add("outbound_uri", "a trunk needs inbound_addresses, inbound credentials or an outbound_uri")
	}
	checkLen(p, "username", t.Username, MaxTrunkUsernameLength)
	checkLen(p, "password", t.Password, MaxSecretLength)
	checkSIPUser(p, "username", t.Username)
	if t.Password != "" && t.Username == "" {
		p.Add("username", "is required with password")
	}
	if t.OutboundURI == "" {
		for _, f := range []struct {
			name string
			set  bool
		}{{"username", t.Username != ""}, {"register", t.Register}, {"default_outbound", t.DefaultOutbound},
			{"options_interval_seconds", t.OptionsIntervalSeconds != 0}} {
			if f.set {
				p.Add(f.name, "needs an outbound_uri")
			}
		}
	}
	if t.Register && (t.Username == "" || t.Password == "") {
		p.Add("register", "needs username and password to register with")
	}
	if t.CallerID != CallerIDFromCall && !isE164(t.CallerID) {
		p.Add("caller_id", `must be "from_call" or an E.164 number such as +390112121212`)
	}
	if len(t.Prefix) > MaxTrunkPrefixLength || strings.Trim(t.Prefix, trunkPrefixCharacters) != "" {
		p.Add("prefix", "must be at most "+strconv.Itoa(MaxTrunkPrefixLength)+" of the characters 0-9, * and #")
	}
	checkRange(p, "max_concurrent_calls", t.MaxConcurrentCalls, 0, MaxTrunkConcurrentCalls)
	checkRange(p, "calls_per_second", t.CallsPerSecond, 0, MaxTrunkCallsPerSecond)
	if t.OptionsIntervalSeconds != 0 && (t.OptionsIntervalSeconds < MinTrunkOptionsInterval || t.OptionsIntervalSeconds > MaxTrunkOptionsInterval) {
		p.Add("options_interval_seconds", "must be 0 (off) or between "+strconv.Itoa(MinTrunkOptionsInterval)+" and "+strconv.Itoa(MaxTrunkOptionsInterval))
	}
	return p.Err()
}

// checkSIPUser refuses characters a SIP URI's user part or a digest
// username cannot carry unescaped, so that a stored name always makes a
// well-formed request.
func checkSIPUser(p Problems, field, v string) {
	for _, c := range v {
		if c <= ' ' || c == 0x7f || strings.ContainsRune(`"<>@:;?\`, c) {
			p.Add(field, `must not contain spaces, control characters or any of "<>@:;?\`)
			return
		}
	}
}

// isE164 reports whether s is "+" and 8 to 15 digits, the first not 0.
func isE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

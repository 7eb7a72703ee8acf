package switchboard

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// DefaultSIPRealm is the digest realm when none is configured. One realm
// serves every tenant so that the store can hash a SIP password the moment it
// is set, whatever name the phone later puts in its To header.
const DefaultSIPRealm = "switchboard"

// SIPAccount is what the registrar needs to authenticate an agent's phone:
// who it is and the digest hashes of its password, never the password.
// Usernames repeat across tenants, so one username can yield several.
type SIPAccount struct {
	TenantID   int64
	TenantSlug string
	UserID     int64
	Username   string
	// Extension names the agent's device (callcenter.DeviceName); phones of
	// a user without one cannot register.
	Extension string
	// Realm is the realm the hashes were computed with: a hash for another
	// realm cannot verify a response to our challenge.
	Realm string
	// HA1 is hex MD5(username:realm:password), HA1SHA256 the same with
	// SHA-256 (RFC 7616): the A1 of each digest algorithm.
	HA1       string
	HA1SHA256 string
}

// SIPDigestHA1 returns the digest A1 hashes (RFC 7616) of a SIP password,
// MD5 and SHA-256, hex-encoded: all a registrar stores to check a response.
func SIPDigestHA1(username, realm, password string) (md5Hex, sha256Hex string) {
	a1 := username + ":" + realm + ":" + password
	m := md5.Sum([]byte(a1))
	s := sha256.Sum256([]byte(a1))
	return hex.EncodeToString(m[:]), hex.EncodeToString(s[:])
}

// SIPBinding is a registered contact of an agent's phone as the store keeps
// it, so that registrations outlive a restart until they expire.
type SIPBinding struct {
	// Device names the phone (callcenter.DeviceName); Contact is the URI it
	// registered, Source the address the REGISTER came from (ip:port) and
	// Transport its transport.
	Device, Contact, Source, Transport string
	ExpiresAt                          time.Time
	CallID, UserAgent                  string
}

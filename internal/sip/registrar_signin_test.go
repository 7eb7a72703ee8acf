package sip

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"switchboard"
)

// TestRegisterReportsSignIn: the first REGISTER of a device (no binding
// before) is a sign-in, reported with the account and the address it came
// from; a refresh is not, and a phone that unregistered and registers again
// signs in again.
func TestRegisterReportsSignIn(t *testing.T) {
	var mu sync.Mutex
	var got []string
	r := newRegRigWith(t, GuardOptions{}, RegistrarOptions{SignedIn: func(acct switchboard.SIPAccount, from netip.Addr) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintf("%d/%d/%s@%s", acct.TenantID, acct.UserID, acct.Username, from))
	}})
	acme := r.tenant("acme")
	u := r.user(acme, "1001", "pw")
	p := newPhone(t, r.addr)
	for i, exp := range []int{3600, 3600, 0, 3600} {
		if res := p.register("1001", "pw", "<sip:1001@127.0.0.1:5099>", exp); status(res) != 200 {
			t.Fatalf("REGISTER %d = %v", i, res)
		}
	}
	// The registrar answers first and reports the sign-in after (the hook
	// writes to the store): wait for the second report.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(50 * time.Millisecond) // a third, wrong, report would be late too
	mu.Lock()
	defer mu.Unlock()
	want := fmt.Sprintf("%d/%d/1001@127.0.0.1", acme.ID, u.ID)
	if len(got) != 2 || got[0] != want || got[1] != want {
		t.Fatalf("sign-ins = %v, want two from 127.0.0.1 (first register, and again after unregistering)", got)
	}
}

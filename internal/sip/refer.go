package sip

import (
	"github.com/emiago/sipgo/sip"
)

// serveRefer answers a REFER. A blind transfer from a phone is the engine's
// decision, not the B2BUA's, and the engine has no port for it yet, so the
// request is refused with 501 and the phone keeps the call; transfers are
// made through the API (POST /v1/calls/{id}/transfer).
func (d *Driver) serveRefer(req *sip.Request, tx sip.ServerTransaction) {
	res := sip.NewResponseFromRequest(req, 501, "Not Implemented", nil)
	res.AppendHeader(sip.NewHeader("Warning", `399 switchboard "transfer through the API: POST /v1/calls/{id}/transfer"`))
	tx.Respond(res)
}

package engine

import (
	"strings"
	"time"

	"switchboard"
)

// Voicemail. A queue with VoicemailEnabled offers a caller who finds it
// closed (outside its Hours: VoicemailAfterHours), full (MaxLength:
// VoicemailOverCapacity, unless it overflows to callbacks) or who has waited
// its MaxWaitSeconds (VoicemailNoAnswer) to leave a message: the caller's leg
// is answered, the driver plays the greeting and the beep (VoicemailMedia)
// and records the caller (Record, as the call's recording) while the call is
// in status voicemail. The message ends when the caller hangs up, or at the
// engine's VoicemailMaxLength, and the call ends in voicemail_received. A
// queue without voicemail refuses the closed case (disposition rejected,
// cause CauseAfterHours) as it refuses a full queue.
//
// A user with VoicemailEnabled (SetUserVoicemail) takes messages the same
// way for the calls to their own numbers, and the calls transferred to them,
// that they cannot take or do not answer (VoicemailNoAnswer).
//
// The call's disposition is the routing outcome it would have had without
// voicemail (rejected when closed or full, no_answer after the wait, missed
// when the user did not take it), so the statistics do not count a message
// as an answered call.

// DefaultVoicemailMaxLength bounds a message when Options leaves it zero.
const DefaultVoicemailMaxLength = 3 * time.Minute

// voicemailPrefix names the greeting media: "voicemail:<reason>".
const voicemailPrefix = "voicemail:"

// VoicemailMedia is the media the engine plays on a caller's leg before
// recording their message: the greeting for reason, then a beep.
func VoicemailMedia(reason string) string { return voicemailPrefix + reason }

// ParseVoicemailMedia reads a media name made by VoicemailMedia.
func ParseVoicemailMedia(media string) (reason string, ok bool) {
	return strings.CutPrefix(media, voicemailPrefix)
}

func (e *Engine) voicemailMax() time.Duration {
	if e.opt.VoicemailMaxLength > 0 {
		return e.opt.VoicemailMaxLength
	}
	return DefaultVoicemailMaxLength
}

// startVoicemail answers c, plays it the greeting and records its message.
// c must be out of every queue's waiting line and ringing no one. e.mu is
// held.
func (e *Engine) startVoicemail(c *call, reason string, d switchboard.Disposition) {
	c.vmDisposition = d
	e.answer(c)
	c.Status, c.VoicemailReason, c.Recorded = switchboard.CallVoicemail, reason, true
	e.opt.Telephony.Play(c.caller, VoicemailMedia(reason))
	e.opt.Telephony.Record(c.caller, c.ID, true)
	e.changed(c, "voicemail_started")
	id := c.ID
	c.timer = e.after(e.voicemailMax(), func() {
		c, ok := e.calls[id]
		if !ok || c.Status != switchboard.CallVoicemail {
			return
		}
		c.timer = nil
		e.opt.Telephony.Hangup(c.caller, "voicemail full")
		e.finishVoicemail(c, switchboard.SideSystem, "the voicemail reached its maximum length")
	})
}

// finishVoicemail ends a call whose caller was leaving a message: the message
// is received. e.mu is held.
func (e *Engine) finishVoicemail(c *call, by switchboard.Side, cause string) {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	e.opt.Telephony.Record(c.caller, c.ID, false)
	now := e.opt.Clock.Now()
	c.EndedAt, c.Status, c.Disposition, c.HangupBy, c.HangupCause = &now, switchboard.CallVoicemailReceived, c.vmDisposition, by, cause
	delete(e.legs, c.caller)
	delete(e.calls, c.ID)
	e.changed(c, "ended")
}

// SetUserVoicemail says whether callers the user misses (on their own
// numbers, or transferred to them) may leave a message.
func (e *Engine) SetUserVoicemail(userID int64, on bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.agent(userID).voicemail = on
}

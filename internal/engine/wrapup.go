package engine

import "switchboard"

// WrapUpObserver, when the Observer also implements it, is told when the
// work of a call is over: when the agent who handled it leaves its wrap-up,
// or right after the call ended when nobody wraps it up (it never reached an
// agent, or its queue has no wrap-up, or it had no queue). It follows the
// call's "ended" change exactly once, except for a wrap-up the engine's
// Close cut short. c is the call as it ended; the observer must not keep it.
// Dialects render "ended, post-call work included" from it (Voiso's
// *.call.ended).
type WrapUpObserver interface {
	CallWrappedUp(c *switchboard.Call)
}

// wrappedUp tells a WrapUpObserver that the work of c is over. end calls it
// when the wrap-up's timer fires, changed right after an "ended" change of a
// call nobody wraps up.
func (e *Engine) wrappedUp(c *call) {
	if wo, ok := e.opt.Observer.(WrapUpObserver); ok {
		wo.CallWrappedUp(&c.Call)
	}
}

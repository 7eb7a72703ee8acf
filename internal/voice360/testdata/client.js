// The JavaScript example of the Voice360 API document, verbatim.
class Voice360API {
constructor(apiKey, accountId) {
this.apiKey = apiKey;
this.accountId = accountId;
this.baseUrl = 'https://api.voice360.app/v3/voice';
}
async request(endpoint, options = {}) {
const url = `${this.baseUrl}/${this.accountId}${endpoint}`;
const response = await fetch(url, {
...options,
headers: {
'X-API-Key': this.apiKey,
'Content-Type': 'application/json',
...options.headers
}
});
if (!response.ok) {
throw new Error(`API Error: ${response.status} ${response.statusText}`);
}
return response.json();
}
// User methods
async getUserAvailability() {
return this.request('/availability');
}
// Queue methods
async getQueues() {
return this.request('/queues');
}
async getQueueDetails(queueId) {
return this.request(`/queues/${queueId}`);
}
async getQueueAvailability(queueId = null) {
const endpoint = queueId
? `/availability/queues/${queueId}`
: '/availability/queues';
return this.request(endpoint);
}
// Call methods
async initiateCall(from, to, options = {}) {
return this.request('/call/outbound', {
method: 'POST',
body: JSON.stringify({ from, to, ...options })
});
}
// SMS methods
async sendSMS(from, to, message) {
return this.request('/sms/send', {
method: 'POST',
body: JSON.stringify({ from, to, message })
});
}
}
// Usage example
async function main() {
const api = new Voice360API('your_api_key', 61);
try {
// Get all online users
const availability = await api.getUserAvailability();
const onlineUsers = availability.result.filter(u => u.devices_registered);
console.log(`${onlineUsers.length} users online`);
// Check queue status
const queues = await api.getQueueAvailability();
const readyQueues = queues.result.filter(q => q.is_ready);
console.log(`${readyQueues.length} queues have agents available`);
// Make an outbound call
const call = await api.initiateCall('1001', '+15551234567', {
caller_id: '+15559876543',
recording: true
});
console.log(`Call initiated: ${call.result.call_id}`);
} catch (error) {
console.error('API Error:', error);
}
}
main();

# The curl example of the Voice360 API document, verbatim.
# Set your API credentials
API_KEY="your_api_key"
ACCOUNT_ID="61"
BASE_URL="https://api.voice360.app/v3/voice"
# Get user availability
echo "Fetching user availability..."
curl -H "X-API-Key: $API_KEY" \
"$BASE_URL/$ACCOUNT_ID/availability"
# List all queues
echo "Fetching queues..."
curl -H "X-API-Key: $API_KEY" \
"$BASE_URL/$ACCOUNT_ID/queues"
# Get queue availability
echo "Fetching queue availability..."
curl -H "X-API-Key: $API_KEY" \
"$BASE_URL/$ACCOUNT_ID/availability/queues"
# Initiate an outbound call
echo "Initiating outbound call..."
curl -X POST "$BASE_URL/$ACCOUNT_ID/call/outbound" \
-H "X-API-Key: $API_KEY" \
-H "Content-Type: application/json" \
-d '{
"from": "1001",
"to": "+15551234567",
"recording": true
}'

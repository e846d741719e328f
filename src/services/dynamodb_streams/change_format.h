#pragma once

#include <string_view>

#include "cdc/change_capture.h"

namespace salespipe::services::dynamodb_streams {

// The wire formats of change records (cdc::RecordFormatter). Thread-safe.
//
// DynamoDB Streams record (spec 3.3), formatted when GetRecords reads it:
//   {"eventID":"<32 hex>","eventName":"INSERT|MODIFY|REMOVE","eventVersion":"1.1",
//    "eventSource":"aws:dynamodb","awsRegion":"<region>",
//    "dynamodb":{"ApproximateCreationDateTime":<epoch seconds>,"Keys":{..},
//                "NewImage":{..},"OldImage":{..},          (as the view type asks)
//                "SequenceNumber":"<n>","SizeBytes":<n>,"StreamViewType":"<type>"},
//    "userIdentity":{"PrincipalId":"dynamodb.amazonaws.com","Type":"Service"}}   (TTL only)
//   userIdentity uses the model's member names (botocore drops other spellings).
//
// Kinesis Data Streams for DynamoDB record (spec 5; the Kinesis record's Data):
//   {"awsRegion":..,"eventID":"<uuid>","eventName":..,"userIdentity":null|{"type":"Service",
//    "principalId":"dynamodb.amazonaws.com"},"recordFormat":"application/json",
//    "tableName":..,"dynamodb":{"ApproximateCreationDateTime":<epoch ms or us>,
//    "Keys":{..},"NewImage":{..},"OldImage":{..},"SizeBytes":<n>},"eventSource":"aws:dynamodb"}
//   Both images whenever they exist, whatever the table's StreamViewType.
//
// SizeBytes is DynamoDB's item size (names + values) of Keys plus the images shown.
class ChangeFormatter final : public cdc::RecordFormatter {
 public:
  std::string StreamRecord(const cdc::Change& change, std::string_view view_type,
                           std::string_view sequence_number,
                           std::string_view event_id) const override;
  std::string DestinationRecord(const cdc::Change& change, bool microseconds,
                                std::string_view event_id) const override;
};

}  // namespace salespipe::services::dynamodb_streams

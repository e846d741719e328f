#pragma once

#include <string_view>

#include "cdc/change_capture.h"

namespace salespipe::services::dynamodb_streams {

// The wire formats of change records (cdc::RecordFormatter). Thread-safe.
//
// DynamoDB Streams record (spec 3.3; GetRecords shows it as stored, SequenceNumber spliced):
//   {"eventID":"<32 hex>","eventName":"INSERT|MODIFY|REMOVE","eventVersion":"1.1",
//    "eventSource":"aws:dynamodb","awsRegion":"<region>",
//    "dynamodb":{"ApproximateCreationDateTime":<epoch seconds>,"Keys":{..},
//                "NewImage":{..},"OldImage":{..},          (as the view type asks)
//                "SequenceNumber":"<spliced>","SizeBytes":<n>,"StreamViewType":"<type>"},
//    "userIdentity":{"PrincipalId":"dynamodb.amazonaws.com","Type":"Service"}}   (TTL only)
//   userIdentity uses the model's member names (botocore drops other spellings).
//
// Kinesis Data Streams for DynamoDB record (spec 5; the Kinesis record's Data):
//   {"awsRegion":..,"eventID":"<uuid>","eventName":..,"userIdentity":null|{"type":"Service",
//    "principalId":"dynamodb.amazonaws.com"},"recordFormat":"application/json",
//    "tableName":..,"dynamodb":{"ApproximateCreationDateTime":<spliced epoch ms or us>,
//    "Keys":{..},"NewImage":{..},"OldImage":{..},"SizeBytes":<n>},"eventSource":"aws:dynamodb"}
//   Both images whenever they exist, whatever the table's StreamViewType.
//
// SizeBytes is DynamoDB's item size (names + values) of Keys plus the images shown.
class ChangeFormatter final : public cdc::RecordFormatter {
 public:
  cdc::SplicedRecord StreamRecord(const cdc::Change& change,
                                  std::string_view view_type) const override;
  cdc::SplicedRecord DestinationRecord(const cdc::Change& change) const override;
};

}  // namespace salespipe::services::dynamodb_streams

-- Text datasets: the uploaded sentences are the dataset's blob (sha256); the tokenizer.json that turns them into
-- token ids is a second content-addressed blob, and text_options says how (maxLength, inputNames) and what the
-- upload scan found (layout, truncated sentences, pad token, tokenizer library).
alter table dataset add column tokenizer_sha256 text;
alter table dataset add column text_options jsonb;
alter table dataset add constraint dataset_text_has_tokenizer
    check ((format = 'text') = (tokenizer_sha256 is not null and text_options is not null));
create index dataset_tokenizer_sha256 on dataset (tokenizer_sha256) where tokenizer_sha256 is not null;

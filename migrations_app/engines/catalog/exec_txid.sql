SELECT txid_current() AS txid

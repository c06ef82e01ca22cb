"""Evidence extractors: real-name, chat and recharge behaviour. Each is a pure function of a case."""

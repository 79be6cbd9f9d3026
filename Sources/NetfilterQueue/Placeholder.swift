// NetfilterQueue

"""Queue mode: the API replicas hand work to `facecraft worker` processes through Redis.

    producer.py     QueueRunner: the API side (upload in, message out, wait for the result)
    broker.py       the dramatiq broker, the message and the queue depth
    worker.py       JobWorker: the consumer, which runs jobs/processing.py and stores the outcome
    redis_store.py  the Redis key layout, the job hash and RedisJobStore, shared by both sides

Imported only when FACECRAFT_QUEUE_URL is set.
"""

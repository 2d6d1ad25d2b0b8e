def test_free_offer_is_spam(featureprobe_model):
    sweep = featureprobe_model.sweep(order=2)  # zero, each word alone, each pair
    assert sweep.predicted(["free", "offer"]) == "spam"
    assert sweep.probabilities("meeting")["spam"] < 0.1

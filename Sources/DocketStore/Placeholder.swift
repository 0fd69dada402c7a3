import DocketCore
public enum DocketStoreX {}
